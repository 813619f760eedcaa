import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TX_SEARCH_ATTRIBUTES } from '../src/domain/search-attributes';
import { cliVersionProblem } from '../tools/stack/cli-version';
import { startDevServer } from '../tools/stack/dev-server';
import { buildTemporalCliWithGo } from '../tools/stack/go-build';
import { formatLogLine } from '../tools/stack/log-format';
import { NODE_ENV_DEFAULTS, NODE_FLAGS, nodeEnv } from '../tools/stack/node-component';
import { freePort } from '../tools/shared/ports';
import type { CliProgress } from '../tools/stack/progress';
import { spawnManaged, waitForHttpOk } from '../tools/shared/processes';
import { obtainTemporalCli, temporalCliCacheDir } from '../tools/stack/temporal-cli';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const silent = pino({ level: 'silent' });

/** Writes an executable shell script. */
async function script(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

function fakeCli(dir: string, serverVersion: string): Promise<string> {
  return script(join(dir, 'temporal'), `echo "temporal version 1.0.0 (Server ${serverVersion}, UI 2.0.0)"`);
}

describe('stack', () => {
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'txflow-stack-'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe('obtainTemporalCli', () => {
    it('returns TEMPORAL_CLI_PATH as given', async () => {
      const cli = await script(join(tmp, 'my-temporal'), 'exit 0');
      assert.equal(await obtainTemporalCli({ env: { TEMPORAL_CLI_PATH: cli, PATH: '' } }), cli);
    });

    it('rejects a TEMPORAL_CLI_PATH that does not exist, naming it and the fix', async () => {
      const missing = join(tmp, 'no-such-temporal');
      await assert.rejects(
        obtainTemporalCli({ env: { TEMPORAL_CLI_PATH: missing, PATH: '' } }),
        (err: Error) => {
          assert.match(err.message, /TEMPORAL_CLI_PATH=/);
          assert.ok(err.message.includes(missing), err.message);
          assert.match(err.message, /not an executable file/);
          return true;
        },
      );
    });

    it('takes a recent enough temporal on PATH', async () => {
      const bin = join(tmp, 'bin');
      await mkdir(bin);
      const cli = await fakeCli(bin, '1.29.1');
      assert.equal(await obtainTemporalCli({ env: { PATH: bin, XDG_CACHE_HOME: join(tmp, 'cache') } }), cli);
    });

    it('passes over a too old temporal on PATH for the cached build', async () => {
      const bin = join(tmp, 'bin');
      await mkdir(bin);
      await fakeCli(bin, '1.22.0');
      const env = { PATH: bin, XDG_CACHE_HOME: join(tmp, 'cache') };
      const cacheDir = temporalCliCacheDir(env);
      assert.equal(cacheDir, join(tmp, 'cache', 'txflow', 'temporal-cli', 'v1.5.1'));
      await mkdir(cacheDir, { recursive: true });
      const cached = await fakeCli(cacheDir, '1.29.1');
      assert.equal(await obtainTemporalCli({ env }), cached);
    });

    it('when every way fails, says what it tried and how to fix it', async () => {
      const env = { PATH: join(tmp, 'empty'), XDG_CACHE_HOME: join(tmp, 'cache') };
      await assert.rejects(obtainTemporalCli({ env, goDirs: [], sdkDownload: false }), (err: Error) => {
        assert.match(err.message, /no `temporal` on PATH/);
        assert.match(err.message, /no cached build at/);
        assert.match(err.message, /no `go` on PATH/);
        assert.match(err.message, /install Go/);
        assert.match(err.message, /TEMPORAL_CLI_PATH/);
        return true;
      });
    });
  });

  describe('buildTemporalCliWithGo (with a fake go)', () => {
    // Stands in for `go install`: logs two downloads, then writes a CLI into $GOBIN.
    const fakeGo = (dir: string, runs: string) =>
      script(
        join(dir, 'go'),
        [
          `echo run >> '${runs}'`,
          'echo "go: downloading example.com/a v1.0.0" >&2',
          'echo "go: downloading example.com/b v1.0.0" >&2',
          'sleep 1',
          `printf '#!/bin/sh\\necho ok\\n' > "$GOBIN/temporal"`,
          'chmod +x "$GOBIN/temporal"',
        ].join('\n'),
      );

    it('builds once for two concurrent callers, counting downloads, leaving no temp files', async () => {
      const runs = join(tmp, 'runs');
      const goPath = await fakeGo(tmp, runs);
      const cacheDir = join(tmp, 'cache');
      const seen: CliProgress[] = [];
      const build = () =>
        buildTemporalCliWithGo({ goPath, cacheDir, tag: 'v1.5.1', onProgress: (p) => seen.push(p) });
      const [a, b] = await Promise.all([build(), build()]);
      assert.equal(a, join(cacheDir, 'temporal'));
      assert.equal(b, a);
      assert.equal(
        (await readFile(runs, 'utf8')).trim().split('\n').length,
        1,
        'go install ran more than once',
      );
      assert.ok(seen.some((p) => p.phase === 'building' && p.downloads === 2));
      assert.ok(seen.some((p) => p.phase === 'built'));
      assert.deepEqual(await readdir(cacheDir), ['temporal']);
    });

    it('fails with go output and leaves no binary when go install fails', async () => {
      const goPath = await script(join(tmp, 'go'), 'echo "go: module lookup disabled" >&2; exit 1');
      const cacheDir = join(tmp, 'cache');
      await assert.rejects(
        buildTemporalCliWithGo({ goPath, cacheDir, tag: 'v1.5.1' }),
        /exited with code 1[\s\S]*module lookup disabled/,
      );
      assert.deepEqual(await readdir(cacheDir), []);
    });
  });

  describe('cliVersionProblem', () => {
    it('accepts Server 1.29 and newer, rejects older or unparsable output', () => {
      assert.equal(cliVersionProblem('temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)\n'), undefined);
      assert.equal(cliVersionProblem('temporal version 1.6.0 (Server 1.30.0, UI 2.45.0)'), undefined);
      assert.match(cliVersionProblem('temporal version 1.1.2 (Server 1.25.2, UI 2.32.0)') ?? '', /older/);
      assert.match(cliVersionProblem('temporal version 1.1.2') ?? '', /no server version/);
      assert.match(cliVersionProblem('command not found') ?? '', /unexpected/);
    });
  });

  describe('processes', () => {
    it('waits for a line, then stops with SIGTERM', async () => {
      const proc = spawnManaged({
        name: 'sleeper',
        command: process.execPath,
        args: ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'],
      });
      assert.equal(await proc.waitForLine((l) => l === 'ready', 10_000), 'ready');
      const info = await proc.stop(5_000);
      assert.equal(info.signal, 'SIGTERM');
      assert.equal(proc.running, false);
    });

    it('kills with SIGKILL when SIGTERM is ignored past the grace', async () => {
      const proc = spawnManaged({
        name: 'stubborn',
        command: process.execPath,
        args: ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'],
        detached: true,
      });
      await proc.waitForLine((l) => l === 'ready', 10_000);
      assert.equal((await proc.stop(300)).signal, 'SIGKILL');
    });

    it('stops waiting for HTTP when the process exits, with its output', async () => {
      const proc = spawnManaged({
        name: 'crasher',
        command: process.execPath,
        args: ['-e', 'console.error("cannot bind: boom"); process.exit(4)'],
      });
      const url = `http://127.0.0.1:${await freePort()}/health`;
      await assert.rejects(waitForHttpOk(url, { process: proc, timeoutMs: 20_000 }), (err: Error) => {
        assert.match(err.message, /crasher exited with code 4/);
        assert.match(err.message, /cannot bind: boom/);
        return true;
      });
    });

    it('formats a pino line with its component prefix and extra fields', () => {
      const line = JSON.stringify({ level: 30, time: 0, pid: 1, msg: 'worker running', taskQueue: 'txflow' });
      assert.equal(
        formatLogLine('worker', line),
        'worker   | 00:00:00.000 INFO  worker running {"taskQueue":"txflow"}',
      );
      assert.equal(formatLogLine('api', 'plain text'), 'api      | plain text');
    });
  });

  describe('dev server', () => {
    it('the shared test server has the txflow search attributes registered', async () => {
      const connection = await Connection.connect({ address: testTemporalAddress() });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({
          namespace: 'default',
        });
        assert.ok(customAttributes, 'listSearchAttributes returned no custom attributes');
        for (const key of TX_SEARCH_ATTRIBUTES) {
          const expected = temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`];
          assert.equal(customAttributes?.[key.name], expected, `search attribute ${key.name}`);
        }
      } finally {
        await connection.close();
      }
    });

    it('refuses a port that is already in use', async () => {
      const port = await freePort();
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
      try {
        const cliPath = await script(join(tmp, 'temporal'), 'sleep 60');
        await assert.rejects(
          startDevServer({ cliPath, port, namespace: 'default', log: silent }),
          new RegExp(`already in use[\\s\\S]*127\\.0\\.0\\.1:${port}`),
        );
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('fails with the server output when it exits before answering', async () => {
      const cliPath = await script(join(tmp, 'temporal'), 'echo "unknown flag: --bogus" >&2; exit 3');
      await assert.rejects(
        startDevServer({ cliPath, port: await freePort(), namespace: 'default', log: silent }),
        (err: Error) => {
          assert.match(err.message, /temporal exited with code 3/);
          assert.match(err.message, /unknown flag: --bogus/);
          return true;
        },
      );
    });

    it('keeps a workflow across a restart with a file DB', async function () {
      this.timeout(300_000);
      const cliPath = await obtainTemporalCli();
      const dbFile = join(tmp, 'temporal.db');
      const port = await freePort();
      const workflowId = `restart-${Date.now()}`;
      const options = { cliPath, dbFile, port, uiPort: false as const, namespace: 'default', log: silent };

      const first = await startDevServer(options);
      try {
        const connection = await Connection.connect({ address: first.address });
        const client = new Client({ connection, namespace: 'default' });
        // No worker: the workflow just waits in the server's store, which is what we check.
        await client.workflow.start('noop', { taskQueue: uniqueTaskQueue('stack-restart'), workflowId });
        await connection.close();
      } finally {
        await first.stop();
      }
      assert.equal(first.process.running, false);

      const second = await startDevServer(options);
      try {
        const connection = await Connection.connect({ address: second.address });
        const client = new Client({ connection, namespace: 'default' });
        const description = await client.workflow.getHandle(workflowId).describe();
        assert.equal(description.type, 'noop');
        assert.equal(description.status.name, 'RUNNING');
        await connection.close();
      } finally {
        await second.stop();
      }
    });
  });
});

describe("the API's, the worker's and the all-in-one's V8 flags and environment defaults", () => {
  const repo = join(__dirname, '..', '..');

  for (const component of ['api', 'worker', 'all-in-one']) {
    it(`${component}: the same in npm start, package.json and the Dockerfile`, async () => {
      const flags = NODE_FLAGS[component] ?? [];
      assert.ok(
        flags.some((f) => f.startsWith('--max-old-space-size=')),
        'the heap is capped',
      );
      const { scripts } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      const env = Object.entries(NODE_ENV_DEFAULTS[component] ?? {});
      const assignments = env.map(([name, value]) => `${name}=\${${name}:-${value}} `).join('');
      assert.equal(scripts[component], `${assignments}node ${flags.join(' ')} dist/src/${component}/main.js`);
      const dockerfile = await readFile(join(repo, 'Dockerfile'), 'utf8');
      // The entry point's shell script inside the JSON array: assignments before `exec`, quotes escaped.
      const entrypoint = `api|worker|all-in-one) ${assignments}exec node ${flags.join(' ')} \\"dist/src/$0/main.js\\"`;
      assert.ok(
        dockerfile.includes(entrypoint),
        'the image runs it with the same flags and environment defaults',
      );
    });
  }

  it('a value already in the environment wins over a default', () => {
    assert.equal(nodeEnv('worker', { PATH: '/bin' }).MALLOC_ARENA_MAX, '2');
    assert.equal(nodeEnv('worker', { MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX, '4');
    // Empty counts as unset, as `${MALLOC_ARENA_MAX:-2}` in the scripts and the image has it.
    assert.equal(nodeEnv('worker', { MALLOC_ARENA_MAX: '' }).MALLOC_ARENA_MAX, '2');
    assert.equal(nodeEnv('mock', { PATH: '/bin' }).MALLOC_ARENA_MAX, undefined);
  });
});
