// Review of issue 16 (decision 0026): a worker is SIGKILLed while its local POST is in flight (the row lands 12 s
// later). A cancel (the API's update, or a plain workflow cancel request: Web UI, CLI, the API's fallback) reaches
// the run before the first workflow task's second try. The run never says `cancelled` about a transaction the
// downstream holds.
import assert from 'node:assert/strict';
import type { ProcessingState } from '../src/domain/transaction';
import { cancelUpdate } from '../src/workflows/updates';
import { eventually } from './support/eventually';
import { useLocalPostRuns } from './support/local-post-runs';
import { startMock, type RunningMock } from './support/mock-server';

describe('a cancel after a worker died during its local POST', function () {
  this.timeout(120_000);
  let mock: RunningMock;
  const runs = useLocalPostRuns('local-post-cancel');

  for (const how of ['update', 'workflow cancel'] as const) {
    it(`(${how}) is refused: the first POST may have been sent`, async function () {
      mock = await startMock({ lateWriteRate: 1, lateWriteMs: 12_000 });
      const { tx, handle, worker, killDuringPost } = await runs.start(mock);
      await killDuringPost(await worker());
      // Admitted (update) or buffered (cancel request) while the first task's first try is still "started".
      const cancelled =
        how === 'update'
          ? handle.executeUpdate(cancelUpdate, { updateId: 'cancel' }).catch((e: unknown) => e)
          : handle.cancel();
      await worker();
      const state: ProcessingState = await handle.result();
      const answer = await cancelled;
      if (how === 'update')
        assert.ok(
          answer instanceof Error || (answer as ProcessingState).status !== 'cancelled',
          'not cancelled',
        );
      await eventually(() => assert.equal(mock.store.copies(tx.id), 1), 20_000, 100);
      // Without the fix: `cancelled` (the second try's check was cancelled), while the downstream holds the row.
      assert.equal(state.status, 'completed');
      assert.equal(state.outcome, 'already_present');
      assert.equal(mock.store.stats().requests.post, 1);
    });
  }
});
