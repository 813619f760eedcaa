import cliProgress from 'cli-progress';

/** What the live display shows, once a second. */
export interface ProgressSnapshot {
  /** "warmup", "performance", "stress@40", "drain". */
  phase: string;
  elapsedSeconds: number;
  /** Planned length of the phase (the deadline while draining). */
  totalSeconds: number;
  sent: number;
  planned: number;
  accepted: number;
  errors: number;
  inFlight: number;
  p99Ms: number;
  maxLagMs: number;
  /** Transactions tracked, finished (completed or failed), still pending. */
  tracked: number;
  finished: number;
  pending: number;
}

export interface Progress {
  update(s: ProgressSnapshot): void;
  /** A line between updates (a phase ended, a stress verdict, a warning). */
  log(line: string): void;
  stop(): void;
}

/** One status line (without the bar): shared by the TTY bar and the plain lines. */
export function statusLine(s: ProgressSnapshot): string {
  if (s.phase === 'drain') {
    return `finished ${s.finished}/${s.tracked} | pending ${s.pending} | ${Math.round(s.elapsedSeconds)}s of ${s.totalSeconds}s deadline`;
  }
  return (
    `sent ${s.sent}/${s.planned} | ok ${s.accepted} | err ${s.errors} | p99 ${fmt(s.p99Ms)} ms | ` +
    `in flight ${s.inFlight} | lag ${fmt(s.maxLagMs)} ms | finished ${s.finished}/${s.tracked}`
  );
}

function fmt(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}

/** Nothing shown (--quiet, tests). */
export const silentProgress: Progress = { update: () => {}, log: () => {}, stop: () => {} };

/**
 * A cli-progress bar per phase on a terminal; on anything else (CI logs, pipes) a plain line every
 * `plainEverySeconds` and at each phase change.
 */
export function createProgress(stream: NodeJS.WriteStream, plainEverySeconds = 5): Progress {
  return stream.isTTY === true ? ttyProgress(stream) : plainProgress(stream, plainEverySeconds);
}

function ttyProgress(stream: NodeJS.WriteStream): Progress {
  let bar: cliProgress.SingleBar | undefined;
  let phase = '';
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(s) {
      if (s.phase !== phase || bar === undefined) {
        stopBar();
        phase = s.phase;
        bar = new cliProgress.SingleBar(
          {
            stream,
            hideCursor: true,
            clearOnComplete: false,
            barsize: 24,
            format: (options, params, payload: { line: string }) =>
              `${phase.padEnd(12)} ${cliProgress.Format.BarFormat(params.progress, options)} ${payload.line}`,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, s.totalSeconds), 0, { line: '' });
      }
      bar.update(Math.min(s.elapsedSeconds, s.totalSeconds), { line: statusLine(s) });
    },
    log(line) {
      // Below the finished bar: stop it, write, and a new bar starts with the next update.
      stopBar();
      phase = '';
      stream.write(`${line}\n`);
    },
    stop: stopBar,
  };
}

function plainProgress(stream: NodeJS.WriteStream, everySeconds: number): Progress {
  let phase = '';
  let lastAt = -Infinity;
  return {
    update(s) {
      const now = Date.now();
      if (s.phase === phase && now - lastAt < everySeconds * 1000) return;
      phase = s.phase;
      lastAt = now;
      stream.write(`[${s.phase} ${Math.round(s.elapsedSeconds)}/${s.totalSeconds}s] ${statusLine(s)}\n`);
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {},
  };
}
