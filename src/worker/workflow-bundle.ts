import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from '../config/logger';

// dist/workflow-bundle.js: built by `npm run build`, so a worker does not run webpack at start
// (that costs it ~100 MB of peak memory and a few seconds).
const DIST = path.resolve(__dirname, '..', '..');
export const BUNDLE_PATH = path.join(DIST, 'workflow-bundle.js');
// The same workflow code with the OpenTelemetry workflow interceptors, for a worker with tracing on: a
// prebuilt bundle cannot take interceptor modules at Worker.create, so they are bundled in here (docs/tracing.md).
export const TRACED_BUNDLE_PATH = path.join(DIST, 'workflow-bundle-traced.js');
// What the workflow bundle is made of: workflow code and the domain files it imports.
const SOURCES = [path.join(DIST, 'src', 'workflows'), path.join(DIST, 'src', 'domain')];

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** The SDK's module of workflow interceptors (inbound, outbound, internals) that trace a workflow run. */
export function workflowTracingModule(): string {
  return require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
}

export interface BundleChoice {
  /** With the OpenTelemetry workflow interceptors (TRACED_BUNDLE_PATH) or without (BUNDLE_PATH). */
  traced?: boolean;
}

export async function writeWorkflowBundle(log?: Logger, choice: BundleChoice = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    ...(choice.traced && { workflowInterceptorModules: [workflowTracingModule()] }),
    ...(log && { logger: quiet(log) }),
  });
  const target = bundlePath(choice);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, code);
  return target;
}

/** The prebuilt bundle when it is newer than every compiled workflow file; else bundles now and keeps it. */
export async function workflowBundle(log: Logger, choice: BundleChoice = {}): Promise<WorkflowBundleOption> {
  const target = bundlePath(choice);
  if (existsSync(target) && statSync(target).mtimeMs >= newestSource()) {
    return { codePath: target };
  }
  log.warn({ path: target }, 'workflow bundle missing or older than the workflow code: bundling now');
  return { codePath: await writeWorkflowBundle(log, choice) };
}

function bundlePath(choice: BundleChoice): string {
  return choice.traced ? TRACED_BUNDLE_PATH : BUNDLE_PATH;
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
