/** What obtainTemporalCli reports while it works; `elapsedMs` counts from the step's start. */
export type CliProgress =
  | { phase: 'waiting-for-lock'; elapsedMs: number; holder: string }
  | { phase: 'building'; elapsedMs: number; downloads: number; lastLine: string | undefined }
  | { phase: 'built'; elapsedMs: number; path: string }
  | { phase: 'sdk-download'; elapsedMs: number };

/** Non-TTY output prints a line this often, so CI logs show life without flooding. */
const LINE_EVERY_MS = 15_000;

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export function describeProgress(p: CliProgress): string {
  const elapsed = formatDuration(p.elapsedMs);
  switch (p.phase) {
    case 'waiting-for-lock':
      return `Waiting for another Temporal CLI build to finish (${p.holder}), ${elapsed}`;
    case 'building':
      return (
        `Building the Temporal CLI from source (first run only, ~5-10 min): ${elapsed} elapsed, ` +
        `${p.downloads} Go modules downloaded`
      );
    case 'built':
      return `Temporal CLI built in ${elapsed}: ${p.path}`;
    case 'sdk-download':
      return `Downloading the Temporal CLI through the SDK: ${elapsed}`;
  }
}

/**
 * Renders progress for a person: one line rewritten in place on a TTY, else a line per phase change
 * and every 15 s. Call `done()` before printing anything else.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (p: CliProgress) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  let lastPhase: string | undefined;
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
      if (final || p.phase !== lastPhase || now - lastPrintAt >= LINE_EVERY_MS) {
        stream.write(`${text}\n`);
        lastPrintAt = now;
        lastPhase = p.phase;
      }
    },
    done: () => {
      if (tty && lineOpen) stream.write('\n');
      lineOpen = false;
    },
  };
}
