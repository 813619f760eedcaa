import { execFile } from 'node:child_process';

/** The CLI tag we build from source; later tags can't be `go install`ed. */
export const TEMPORAL_CLI_TAG = 'v1.5.1';
/** Oldest embedded server we accept from a `temporal` found elsewhere (what v1.5.1 embeds). */
export const MIN_SERVER_VERSION = '1.29.0';

export interface CliVersion {
  /** The CLI's own version, e.g. `1.5.1` or `0.0.0-DEV` for a source build. */
  cli: string;
  /** The embedded Temporal server's version, e.g. `1.29.1`; undefined when the output doesn't say. */
  server: string | undefined;
}

/** Parses `temporal --version` output: `temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)`. */
export function parseCliVersion(output: string): CliVersion | undefined {
  const match = /temporal version (\S+)(?:\s*\(Server ([0-9][^,\s)]*))?/i.exec(output);
  if (!match?.[1]) return undefined;
  return { cli: match[1], server: match[2] };
}

function numericParts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split(/[.-]/)
    .slice(0, 3)
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** True when `version` (x.y.z) is at least `minimum`. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = numericParts(version);
  const b = numericParts(minimum);
  for (let i = 0; i < 3; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * Acceptable means the output names an embedded server of MIN_SERVER_VERSION or newer. The CLI's own
 * version is not used: source builds all say 0.0.0-DEV, while the server version is always accurate.
 */
export function cliVersionProblem(output: string): string | undefined {
  const version = parseCliVersion(output);
  if (!version)
    return `\`--version\` printed something unexpected: ${JSON.stringify(output.trim().slice(0, 200))}`;
  if (!version.server) return `\`--version\` names no server version (${output.trim()})`;
  if (!versionAtLeast(version.server, MIN_SERVER_VERSION)) {
    return `embeds Server ${version.server}, older than the required ${MIN_SERVER_VERSION}`;
  }
  return undefined;
}

/** Runs `<path> --version`; resolves its stdout, rejects when it can't run or fails. */
export function readCliVersion(path: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['--version'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${path} --version\` failed: ${err.message} ${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}
