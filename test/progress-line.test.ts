import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressLine } from '../tools/shared/progress';

/** The progress line of the long-running commands (npm run redrive, npm run replay): tools/shared/progress.ts. */
describe('progressLine (pure)', function () {
  const collect = () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    return { stream, lines };
  };

  it('writes the current description every interval while work runs, and nothing after stop', async function () {
    const { stream, lines } = collect();
    let done = 0;
    const progress = progressLine(stream, () => `retrying, ${done} done`, 20);
    done = 3;
    await sleep(75);
    progress.stop();
    const written = lines.length;
    assert.ok(written >= 2 && written <= 4, `${written} lines in 75 ms at one per 20 ms`);
    assert.ok(
      lines.every((l) => l === 'retrying, 3 done'),
      lines.join(' | '),
    );
    await sleep(50);
    assert.equal(lines.length, written, 'quiet once stopped');
  });

  it('is quiet for work shorter than the interval', async function () {
    const { stream, lines } = collect();
    const progress = progressLine(stream, () => 'never', 50);
    await sleep(10);
    progress.stop();
    await sleep(60);
    assert.deepEqual(lines, []);
  });
});
