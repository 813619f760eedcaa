// The chaos scenarios (npm run chaos), reduced: each starts its own dev server on a SQLite file, mock, worker(s)
// and API as child processes from dist, drives 40-80 transactions, injects its fault and must end with every
// transaction accepted and finished, 0 lost and 0 duplicated downstream. Some 20 s each.
import assert from 'node:assert/strict';
import { liveProcesses } from '../tools/shared/processes';
import { runScenario, SCENARIOS } from '../tools/chaos/run';

describe('chaos: fault scenarios against real processes (size small)', function () {
  this.timeout(240_000);

  for (const scenario of SCENARIOS.filter((s) => s.inTest)) {
    it(`${scenario.name}: ${scenario.description}`, async function () {
      const lines: string[] = [];
      const before = new Set(liveProcesses());
      const result = await runScenario(scenario.name, 'small', (line) => lines.push(line));
      const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      const why = `${failed.join('\n')}\n${result.error ?? ''}\n--- scenario log ---\n${lines.join('\n')}`;
      assert.equal(result.error, null, why);
      assert.deepEqual(failed, [], why);
      assert.ok(result.passed, why);
      const f = result.figures;
      assert.equal(f.accepted, f.submitted, why);
      assert.deepEqual([f.lost, f.duplicated, f.pending, f.failed], [0, 0, 0, 0], why);
      // Nothing the scenario started is left running.
      const leftovers = liveProcesses().filter((p) => !before.has(p));
      assert.deepEqual(
        leftovers.map((p) => `${p.name} (pid ${p.pid})`),
        [],
        'processes left running',
      );
    });
  }
});
