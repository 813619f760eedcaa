/**
 * What a build of a Go tool (the Temporal CLI, the server, ...) or the SDK's CLI download reports while it
 * works; `elapsedMs` counts from the step's start. `tool` names what is built ("the Temporal CLI" when
 * absent), `expected` how long a cold build takes ("~5-10 min" when absent).
 */
export type BuildProgress = (
  | { phase: 'waiting-for-lock'; elapsedMs: number; holder: string }
  | { phase: 'building'; elapsedMs: number; downloads: number; lastLine: string | undefined }
  | { phase: 'built'; elapsedMs: number; path: string }
  | { phase: 'sdk-download'; elapsedMs: number }
) & { tool?: string; expected?: string };

/** The name the Temporal CLI code has always used. */
export type CliProgress = BuildProgress;

/** Non-TTY output prints a line this often, so CI logs show life without flooding. */
const LINE_EVERY_MS = 15_000;

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export function describeProgress(p: BuildProgress): string {
  const elapsed = formatDuration(p.elapsedMs);
  const tool = p.tool ?? 'the Temporal CLI';
  switch (p.phase) {
    case 'waiting-for-lock':
      return `Waiting for another build of ${tool} to finish (${p.holder}), ${elapsed}`;
    case 'building':
      return (
        `Building ${tool} from source (first run only, ${p.expected ?? '~5-10 min'}): ${elapsed} elapsed, ` +
        `${p.downloads} Go modules downloaded`
      );
    case 'built':
      return `Built ${tool} in ${elapsed}: ${p.path}`;
    case 'sdk-download':
      return `Downloading ${tool} through the SDK: ${elapsed}`;
  }
}

/**
 * Renders progress for a person: one line rewritten in place on a TTY, else a line per phase change
 * and every 15 s. Call `done()` before printing anything else.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (p: BuildProgress) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  let lastKey: string | undefined;
  let lastPrintAt = 0;
  let lineOpen = false;
  return {
    onProgress: (p) => {
      const text = describeProgress(p);
      const final = p.phase === 'built';
      if (tty) {
        const columns = stream.columns ?? 120;
        stream.write(`\r\x1b[2K${text.slice(0, columns - 1)}${final ? '\n' : ''}`);
        lineOpen = !final;
        return;
      }
      const now = Date.now();
      // A new tool counts as a new phase, so each build of a sequence gets its first line at once.
      const key = `${p.tool ?? ''}/${p.phase}`;
      if (final || key !== lastKey || now - lastPrintAt >= LINE_EVERY_MS) {
        stream.write(`${text}\n`);
        lastPrintAt = now;
        lastKey = key;
      }
    },
    done: () => {
      if (tty && lineOpen) stream.write('\n');
      lineOpen = false;
    },
  };
}

/** A line on `stream` every `everyMs` while work runs; quiet for runs shorter than that. */
export function progressLine(
  stream: NodeJS.WritableStream,
  describe: () => string,
  everyMs = 5_000,
): { stop: () => void } {
  const timer = setInterval(() => stream.write(`${describe()}\n`), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
