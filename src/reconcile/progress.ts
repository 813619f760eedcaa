import cliProgress from 'cli-progress';

export interface StepProgress {
  update(step: string, done: number, total: number): void;
  stop(): void;
}

const LABELS: Record<string, string> = {
  txflow: 'txflow (visibility)',
  downstream: 'downstream',
  'look up': 'look up in Temporal',
};

/** A bar per step on a terminal; elsewhere (CI, pipes) a line when a step starts, every 5 s, and when it ends. */
export function createStepProgress(stream: NodeJS.WriteStream, plainEveryMs = 5_000): StepProgress {
  const label = (step: string) => (LABELS[step] ?? step).padEnd(20);
  if (stream.isTTY === true) {
    let bar: cliProgress.SingleBar | undefined;
    let current = '';
    return {
      update(step, done, total) {
        if (step !== current || !bar) {
          bar?.stop();
          current = step;
          bar = new cliProgress.SingleBar(
            { stream, hideCursor: true, barsize: 30, format: `${label(step)} {bar} {value}/{total}` },
            cliProgress.Presets.shades_classic,
          );
          bar.start(Math.max(total, 1), 0);
        }
        bar.setTotal(Math.max(total, 1));
        bar.update(done);
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let current = '';
  let lastAt = 0;
  let last: [number, number] = [0, 0];
  const write = () => stream.write(`${label(current)} ${last[0]}/${last[1]}\n`);
  return {
    update(step, done, total) {
      if (step !== current) {
        if (current) write();
        current = step;
        lastAt = 0;
      }
      last = [done, total];
      const now = Date.now();
      if (now - lastAt >= plainEveryMs) {
        lastAt = now;
        write();
      }
    },
    stop() {
      if (current) write();
      current = '';
    },
  };
}
