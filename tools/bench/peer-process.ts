// The peer of `npm run bench -- --peer <checkout>`: the BullMQ implementation of the same exercise
// (github.com/amitkumarconsulting/OpenFabricAssessment), built in its own checkout and run beside txflow with a
// Redis of its own on a private port (its tests wipe every key of the Redis they reach).
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../shared/ports';
import { spawnManaged, waitForHttpOk, type ManagedProcess } from '../shared/processes';
import { line } from './report';

const run = promisify(execFile);
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** The compiled entry point: its tsconfig compiles src/ and tests/ together, so it lands in dist/src. */
const ENTRY = path.join('dist', 'src', 'index.js');

/** Installs the peer's dependencies and builds it, each only if not done yet; its entry point. */
export async function preparePeer(checkout: string): Promise<string> {
  const dir = path.resolve(checkout);
  if (!(await exists(path.join(dir, 'package.json')))) {
    throw new Error(`--peer ${checkout}: no package.json there (give a checkout of the peer)`);
  }
  if (!(await exists(path.join(dir, 'node_modules')))) {
    line(`  peer: npm ci in ${dir} (once; about a minute)`);
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  }
  const entry = path.join(dir, ENTRY);
  if (!(await exists(entry))) {
    line(`  peer: building it (tsc, once)`);
    await run(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  return entry;
}

export interface RunningPeer {
  url: string;
  process: ManagedProcess;
  redis: ManagedProcess;
  stop(): Promise<void>;
}

/** A Redis on a free port (nothing on disk), then the peer on it, posting to `postingUrl`. */
export async function startPeer(checkout: string, entry: string, postingUrl: string): Promise<RunningPeer> {
  const redisPort = await freePort();
  const redis = spawnManaged({
    name: 'peer-redis',
    command: 'redis-server',
    args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  });
  await redis.waitForLine((l) => l.includes('Ready to accept connections'), 30_000);
  const port = await freePort();
  const peer = spawnManaged({
    name: 'peer',
    command: process.execPath,
    args: [entry],
    cwd: path.resolve(checkout),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redisPort),
      POSTING_SERVICE_URL: postingUrl,
      NODE_ENV: 'production',
    },
    tailLines: 20,
  });
  const url = `http://127.0.0.1:${port}`;
  await peer.waitForLine((l) => l.includes('Server listening'), 60_000, 'its "Server listening" line');
  await waitForHttpOk(`${url}/api/health`, { timeoutMs: 10_000, process: peer });
  return {
    url,
    process: peer,
    redis,
    async stop() {
      await peer.stop(10_000);
      await redis.stop(5_000);
    },
  };
}
