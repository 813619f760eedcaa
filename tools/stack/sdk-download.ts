import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliProgress } from '../shared/progress';
import { isExecutableFile } from './which';

/** Where the SDK's download lands: core names it `temporal-sdk-typescript-<sdk version>`. */
export function sdkDownloadPath(downloadDir: string): string {
  const pkgPath = require.resolve('@temporalio/testing/package.json');
  const { version } = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  return join(downloadDir, `temporal-sdk-typescript-${version}`);
}

/**
 * Fetches the CLI the way TestWorkflowEnvironment.createLocal does (executable 'cached-download'),
 * in a child process with a time limit since the SDK's HTTP client has none. Resolves the binary's path.
 */
export async function downloadCliWithSdk(options: {
  downloadDir: string;
  onProgress?: (p: CliProgress) => void;
  timeoutMs?: number;
}): Promise<string> {
  const { downloadDir, onProgress } = options;
  const target = sdkDownloadPath(downloadDir);
  if (await isExecutableFile(target)) return target;
  await mkdir(downloadDir, { recursive: true });
  const started = Date.now();
  const ticker = setInterval(
    () => onProgress?.({ phase: 'sdk-download', elapsedMs: Date.now() - started }),
    1_000,
  );
  onProgress?.({ phase: 'sdk-download', elapsedMs: 0 });
  const failure = await new Promise<string | undefined>((resolve) => {
    execFile(
      process.execPath,
      [join(__dirname, 'sdk-download-main.js'), downloadDir],
      { timeout: options.timeoutMs ?? 10 * 60_000 },
      (err, _stdout, stderr) => resolve(err ? stderr.trim() || err.message : undefined),
    );
  }).finally(() => clearInterval(ticker));
  if (await isExecutableFile(target)) return target;
  throw new Error(failure ?? `the SDK reported success but wrote no ${target}`);
}
