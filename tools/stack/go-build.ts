import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { acquireFileLock } from './file-lock';
import type { BuildProgress } from '../shared/progress';
import { isExecutableFile } from './which';

export interface GoInstallOptions {
  goPath: string;
  /** Folder that ends up holding the binary; created when missing. One folder per tool and version. */
  cacheDir: string;
  /** Package path without a version, e.g. `go.temporal.io/server/cmd/server`. */
  pkg: string;
  /** Module version to install, e.g. `v1.29.1`. */
  version: string;
  /** The file `go install` writes: the package path's last element unless given. */
  binary?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: BuildProgress) => void;
  /** For progress lines, e.g. "the Temporal server" and "~5 min". */
  tool?: string;
  expected?: string;
  /** Far longer than a cold build means it is stuck. Default 40 min. */
  timeoutMs?: number;
}

/** The Temporal CLI's build, as the stack has always called it. */
export interface GoBuildOptions {
  goPath: string;
  /** Folder that ends up holding `temporal`; created when missing. */
  cacheDir: string;
  tag: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: BuildProgress) => void;
  /** A cold build is ~5.5 min on 2 cores; far longer means it is stuck. */
  timeoutMs?: number;
}

const TAIL_LINES = 40;

/**
 * `go install`s `pkg@version` into a temporary GOBIN inside cacheDir, then renames the binary into place,
 * so a killed build never leaves a half-written binary. A lock file makes concurrent callers wait for one
 * build instead of running two. Resolves the binary's path.
 */
export async function goInstall(options: GoInstallOptions): Promise<string> {
  const { cacheDir, onProgress } = options;
  const binary = options.binary ?? posix.basename(options.pkg);
  const label = { tool: options.tool, expected: options.expected };
  const target = join(cacheDir, binary);
  await mkdir(cacheDir, { recursive: true });

  const waitStart = Date.now();
  const release = await acquireFileLock(join(cacheDir, '.build.lock'), (holder) =>
    onProgress?.({ phase: 'waiting-for-lock', elapsedMs: Date.now() - waitStart, holder, ...label }),
  );
  try {
    // Whoever held the lock before us may have just built it.
    if (await isExecutableFile(target)) return target;
    // We hold the lock, so any temp GOBIN left here belongs to a build that was killed.
    for (const entry of await readdir(cacheDir)) {
      if (entry.startsWith('.build-')) await rm(join(cacheDir, entry), { recursive: true, force: true });
    }
    const gobin = await mkdtemp(join(cacheDir, '.build-'));
    try {
      const started = Date.now();
      await runGoInstall({ ...options, gobin });
      const built = join(gobin, binary);
      if (!(await isExecutableFile(built))) {
        throw new Error(`go install reported success but wrote no ${built}`);
      }
      await chmod(built, 0o755);
      await rename(built, target);
      onProgress?.({ phase: 'built', elapsedMs: Date.now() - started, path: target, ...label });
      return target;
    } finally {
      await rm(gobin, { recursive: true, force: true });
    }
  } finally {
    await release();
  }
}

/** `go install github.com/temporalio/cli/cmd/temporal@<tag>` into cacheDir (see goInstall). */
export function buildTemporalCliWithGo(options: GoBuildOptions): Promise<string> {
  const { tag, ...rest } = options;
  return goInstall({ ...rest, pkg: 'github.com/temporalio/cli/cmd/temporal', version: tag });
}

function runGoInstall(options: GoInstallOptions & { gobin: string }): Promise<void> {
  const { goPath, gobin, onProgress } = options;
  const timeoutMs = options.timeoutMs ?? 40 * 60_000;
  const started = Date.now();
  const pkg = `${options.pkg}@${options.version}`;
  const label = { tool: options.tool, expected: options.expected };
  return new Promise((resolve, reject) => {
    const child = spawn(goPath, ['install', pkg], {
      env: { ...(options.env ?? process.env), GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    let downloads = 0;
    let lastLine: string | undefined;
    const report = () =>
      onProgress?.({ phase: 'building', elapsedMs: Date.now() - started, downloads, lastLine, ...label });
    const onLine = (line: string) => {
      if (line.startsWith('go: downloading ')) downloads += 1;
      lastLine = line;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      report();
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    report();
    const ticker = setInterval(report, 1_000);
    const timer = setTimeout(() => {
      tail.push(`(killed after ${Math.round(timeoutMs / 60_000)} min)`);
      child.kill('SIGTERM');
    }, timeoutMs);
    const finish = (err?: Error) => {
      clearInterval(ticker);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    child.once('error', (err) => finish(new Error(`could not run ${goPath}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) finish();
      else {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        finish(new Error(`\`go install ${pkg}\` ${how}. Last output:\n${tail.join('\n')}`));
      }
    });
  });
}
