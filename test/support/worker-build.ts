import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort } from '../../tools/shared/ports';
import { spawnManaged, type ManagedProcess } from '../../tools/shared/processes';
import { isWorkerRunningLine } from '../../tools/shared/txflow-process';
import { testTemporalAddress } from './temporal';

/** The repo root: this file is compiled to dist/test/support. */
const ROOT = resolve(__dirname, '..', '..', '..');

export interface WorkerBuild {
  root: string;
  /** Starts `npm run worker` of this build (its scripts/txflow.sh), polling once this resolves. */
  startWorker(taskQueue: string, postingUrl: string, env: Record<string, string>): Promise<ManagedProcess>;
  remove(): void;
}

/**
 * Another build of txflow, as a rollout ships one: dist and scripts copied to a directory of their own, its
 * workflow bundle rewritten by `edit` (which must change it), node_modules shared through a link.
 */
export function otherBuild(edit: (bundle: string) => string): WorkerBuild {
  const root = mkdtempSync(join(tmpdir(), 'txflow-build-'));
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'scripts'), join(root, 'scripts'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const bundlePath = join(root, 'dist', 'workflow-bundle.js');
  const bundle = readFileSync(bundlePath, 'utf8');
  const edited = edit(bundle);
  if (edited === bundle) throw new Error('the edit left the workflow bundle unchanged');
  // Written last, so it is newer than every copied workflow file: the worker loads it, it does not rebundle.
  writeFileSync(bundlePath, edited);
  return {
    root,
    async startWorker(taskQueue, postingUrl, env) {
      const worker = spawnManaged({
        name: `worker-${env.WORKER_BUILD_ID ?? 'other'}`,
        command: 'sh',
        args: [join(root, 'scripts', 'txflow.sh'), 'worker'],
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          TEMPORAL_ADDRESS: testTemporalAddress(),
          TASK_QUEUE: taskQueue,
          POSTING_SERVICE_URL: postingUrl,
          WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
          WORKER_SHUTDOWN_GRACE_MS: '2000',
          LOG_LEVEL: 'info',
          ...env,
        },
      });
      await worker.waitForLine(isWorkerRunningLine, 90_000);
      return worker;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
