import { homedir } from 'node:os';
import { join, posix } from 'node:path';
import type { Logger } from '../../src/config/logger';
import { goInstall } from './go-build';
import type { BuildProgress } from '../shared/progress';
import { findExecutable, isExecutableFile } from './which';

/** A Go program txflow builds from source, pinned to one version and cached per user. */
export interface GoTool {
  /** Cache folder name and label in messages, e.g. `temporal-server`. */
  name: string;
  /** For progress lines: "the Temporal server". */
  title: string;
  /** Package path without version: `go.temporal.io/server/cmd/server`. */
  pkg: string;
  version: string;
  /** How long a cold build took here, for progress lines: "~5 min". */
  expected: string;
}

/** Thrown when a tool is neither cached nor buildable; the message says what was tried and the fix. */
export class GoToolUnavailableError extends Error {
  override name = 'GoToolUnavailableError';
}

/** Go is often installed there without being on PATH (the official tarball's location). */
export const DEFAULT_GO_DIRS = ['/usr/local/go/bin'];

/** `${XDG_CACHE_HOME:-~/.cache}/txflow`. */
export function txflowCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'txflow');
}

/** One folder per tool and version, so two tools whose binaries share a name never meet. */
export function goToolCacheDir(tool: Pick<GoTool, 'name' | 'version'>, env = process.env): string {
  return join(txflowCacheRoot(env), tool.name, tool.version);
}

/** The file `go install` writes for `tool`: its package path's last element. */
export function goToolBinary(tool: Pick<GoTool, 'pkg'>): string {
  return posix.basename(tool.pkg);
}

export function findGo(
  env: NodeJS.ProcessEnv = process.env,
  goDirs = DEFAULT_GO_DIRS,
): Promise<string | undefined> {
  return findExecutable('go', env, goDirs);
}

export interface ObtainGoToolOptions {
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: BuildProgress) => void;
  log?: Logger;
  goDirs?: string[];
}

/** The cached binary of `tool`, built with `go install` first when it is missing. */
export async function obtainGoTool(tool: GoTool, options: ObtainGoToolOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const cacheDir = goToolCacheDir(tool, env);
  const cached = join(cacheDir, goToolBinary(tool));
  if (await isExecutableFile(cached)) return cached;
  const goDirs = options.goDirs ?? DEFAULT_GO_DIRS;
  const goPath = await findGo(env, goDirs);
  const spec = `${tool.pkg}@${tool.version}`;
  if (!goPath) {
    throw new GoToolUnavailableError(
      `Cannot build ${tool.title} (${spec}): no \`go\` on PATH${goDirs.length > 0 ? ` or in ${goDirs.join(', ')}` : ''}. ` +
        `Install Go 1.24 or newer and run again; the binary is cached in ${cacheDir}.`,
    );
  }
  options.log?.info({ go: goPath, pkg: spec, cacheDir }, `building ${tool.title} with go install`);
  try {
    return await goInstall({
      goPath,
      cacheDir,
      pkg: tool.pkg,
      version: tool.version,
      env,
      onProgress: options.onProgress,
      tool: tool.title,
      expected: tool.expected,
    });
  } catch (err) {
    throw new GoToolUnavailableError(
      `Building ${tool.title} failed: ${(err as Error).message}\n` +
        'It fetches Go modules: check network access and GOPROXY, then run again.',
    );
  }
}
