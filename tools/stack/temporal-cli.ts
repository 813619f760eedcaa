import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/config/logger';
import { cliVersionProblem, MIN_SERVER_VERSION, readCliVersion, TEMPORAL_CLI_TAG } from './cli-version';
import { buildTemporalCliWithGo } from './go-build';
import { DEFAULT_GO_DIRS, findGo, goToolCacheDir, txflowCacheRoot } from './go-tool';
import type { CliProgress } from '../shared/progress';
import { downloadCliWithSdk } from './sdk-download';
import { findExecutable, isExecutableFile } from './which';

export interface ObtainTemporalCliOptions {
  onProgress?: (p: CliProgress) => void;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Folders searched for `go` after PATH; default /usr/local/go/bin. */
  goDirs?: string[];
  /** Whether to try the SDK's own download last (default true; tests turn it off). */
  sdkDownload?: boolean;
}

/** Thrown when no way of getting the CLI worked; the message lists each attempt and the fixes. */
export class TemporalCliUnavailableError extends Error {
  override name = 'TemporalCliUnavailableError';
}

/** Per-user, per-version folder of our source build: `${XDG_CACHE_HOME:-~/.cache}/txflow/temporal-cli/v1.5.1`. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return goToolCacheDir({ name: 'temporal-cli', version: TEMPORAL_CLI_TAG }, env);
}

/** Resolves `path` when its `--version` is acceptable, else undefined with the reason in `attempts`. */
async function acceptable(path: string, label: string, attempts: string[]): Promise<string | undefined> {
  try {
    const problem = cliVersionProblem(await readCliVersion(path));
    if (!problem) return path;
    attempts.push(`${label} (${path}): ${problem}`);
  } catch (err) {
    attempts.push(`${label} (${path}): ${(err as Error).message}`);
  }
  return undefined;
}

/**
 * Finds or makes a Temporal CLI and resolves its path. In order: TEMPORAL_CLI_PATH (trusted as given);
 * a `temporal` on PATH whose embedded server is MIN_SERVER_VERSION or newer; our cached source build;
 * a fresh `go install` of TEMPORAL_CLI_TAG into that cache; the SDK's own download.
 */
export async function obtainTemporalCli(options: ObtainTemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log;
  const attempts: string[] = [];

  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (await isExecutableFile(explicit)) {
      log?.debug({ path: explicit }, 'temporal cli from TEMPORAL_CLI_PATH');
      return explicit;
    }
    throw new TemporalCliUnavailableError(
      `TEMPORAL_CLI_PATH=${explicit} is not an executable file. Point it at a Temporal CLI binary ` +
        `(Server ${MIN_SERVER_VERSION} or newer), or unset it to let txflow find or build one.`,
    );
  }

  const onPath = await findExecutable('temporal', env);
  if (onPath) {
    const ok = await acceptable(onPath, '`temporal` on PATH', attempts);
    if (ok) return ok;
  } else {
    attempts.push('no `temporal` on PATH');
  }

  const cacheDir = temporalCliCacheDir(env);
  const cached = join(cacheDir, 'temporal');
  if (await isExecutableFile(cached)) {
    const ok = await acceptable(cached, 'cached build', attempts);
    if (ok) return ok;
    // Unusable (e.g. another architecture): rebuild rather than hand it back again.
    await rm(cached, { force: true });
  } else {
    attempts.push(`no cached build at ${cached}`);
  }

  const goDirs = options.goDirs ?? DEFAULT_GO_DIRS;
  const goPath = await findGo(env, goDirs);
  if (goPath) {
    try {
      log?.info({ go: goPath, tag: TEMPORAL_CLI_TAG, cacheDir }, 'building temporal cli with go install');
      const built = await buildTemporalCliWithGo({
        goPath,
        cacheDir,
        tag: TEMPORAL_CLI_TAG,
        env,
        onProgress: options.onProgress,
      });
      const ok = await acceptable(built, 'go install build', attempts);
      if (ok) return ok;
    } catch (err) {
      attempts.push(`go install with ${goPath} failed: ${(err as Error).message}`);
    }
  } else {
    attempts.push(`no \`go\` on PATH${goDirs.length > 0 ? ` or in ${goDirs.join(', ')}` : ''}`);
  }

  if (options.sdkDownload !== false) {
    try {
      const downloadDir = join(txflowCacheRoot(env), 'temporal-cli', 'sdk-download');
      const downloaded = await downloadCliWithSdk({ downloadDir, onProgress: options.onProgress });
      const ok = await acceptable(downloaded, 'SDK download', attempts);
      if (ok) return ok;
    } catch (err) {
      attempts.push(`the SDK's CLI download failed: ${(err as Error).message}`);
    }
  }

  throw new TemporalCliUnavailableError(
    [
      'Could not obtain a Temporal CLI (it runs the local Temporal dev server). Tried:',
      ...attempts.map((a) => `  - ${a}`),
      'To fix, either:',
      goPath
        ? '  - fix the `go install` failure above (it fetches Go modules: check network access and GOPROXY), then run again'
        : `  - install Go and run again: txflow builds the CLI ${TEMPORAL_CLI_TAG} into ${cacheDir}`,
      `  - or set TEMPORAL_CLI_PATH to a Temporal CLI binary with Server ${MIN_SERVER_VERSION} or newer`,
      '  - or set TEMPORAL_ADDRESS to use a Temporal server you already run (npm start only)',
    ].join('\n'),
  );
}
