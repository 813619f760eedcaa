// The breaker-outage chaos scenario (size small) on real processes: a dev server, the mock, a worker with its
// circuit breaker and the API; a 12 s outage under load. Its checks: calls per second fall to the probes in the
// outage's second half, a GET shows a transaction paused, and every transaction completes once after it.
import assert from 'node:assert/strict';
import { runScenario } from '../tools/chaos/run';

describe('chaos: a downstream outage with the circuit breaker (size small)', function () {
  this.timeout(180_000);

  it('breaker-outage: calls fall to a trickle of probes; 0 lost, 0 duplicated, 0 failed', async function () {
    const lines: string[] = [];
    const result = await runScenario('breaker-outage', 'small', (line) => lines.push(line));
    const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    const why = `${failed.join('\n')}\n${result.error ?? ''}\n--- scenario log ---\n${lines.join('\n')}`;
    assert.equal(result.error, null, why);
    assert.deepEqual(failed, [], why);
    const f = result.figures;
    assert.equal(f.accepted, f.submitted, why);
    assert.deepEqual([f.lost, f.duplicated, f.pending, f.failed], [0, 0, 0, 0], why);
    const perSecond = result.details.callsPerSecond as number[];
    process.stdout.write(`      calls per second during the outage: ${perSecond.join(' ')}\n`);
    assert.ok(Math.max(...perSecond) > 2 * Math.max(...perSecond.slice(-3)), why);
  });
});
