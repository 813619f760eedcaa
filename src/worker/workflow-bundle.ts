import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from '../config/logger';

// dist/workflow-bundle.js: built by `npm run build`, so a worker does not run webpack at start
// (that costs it ~100 MB of peak memory and a few seconds).
const DIST = path.resolve(__dirname, '..', '..');
export const BUNDLE_PATH = path.join(DIST, 'workflow-bundle.js');
// What the workflow bundle is made of: workflow code and the domain files it imports.
const SOURCES = [path.join(DIST, 'src', 'workflows'), path.join(DIST, 'src', 'domain')];

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function writeWorkflowBundle(log?: Logger): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    ...(log && { logger: quiet(log) }),
  });
  await mkdir(path.dirname(BUNDLE_PATH), { recursive: true });
  await writeFile(BUNDLE_PATH, code);
  return BUNDLE_PATH;
}

/** The prebuilt bundle when it is newer than every compiled workflow file; else bundles now and keeps it. */
export async function workflowBundle(log: Logger): Promise<WorkflowBundleOption> {
  if (existsSync(BUNDLE_PATH) && statSync(BUNDLE_PATH).mtimeMs >= newestSource()) {
    return { codePath: BUNDLE_PATH };
  }
  log.warn({ path: BUNDLE_PATH }, 'workflow bundle missing or older than the workflow code: bundling now');
  return { codePath: await writeWorkflowBundle(log) };
}

function newestSource(): number {
  let newest = 0;
  for (const dir of SOURCES) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) newest = Math.max(newest, statSync(path.join(dir, file)).mtimeMs);
  }
  return newest;
}

/** webpack's report is a page of text: keep it at debug. */
function quiet(log: Logger) {
  return {
    log: (level: string, message: string, meta?: object) => log.debug({ level, ...meta }, message),
    trace: (message: string, meta?: object) => log.trace(meta ?? {}, message),
    debug: (message: string, meta?: object) => log.debug(meta ?? {}, message),
    info: (message: string, meta?: object) => log.debug(meta ?? {}, message),
    warn: (message: string, meta?: object) => log.warn(meta ?? {}, message),
    error: (message: string, meta?: object) => log.error(meta ?? {}, message),
  };
}
