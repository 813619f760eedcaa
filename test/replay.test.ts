import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundle } from './support/harness';

// Recorded by test/tools/record-histories.ts from real runs with retries and failures.
const HISTORIES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'histories');

async function histories() {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')),
    })),
  );
}

describe('replay of recorded workflow histories', function () {
  it('the current workflow code replays every recorded history without a determinism error', async function () {
    const recorded = await histories();
    assert.ok(recorded.length >= 3, 'histories are committed under test/fixtures/histories');
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      recorded,
    )) {
      results.push(result);
    }
    assert.equal(results.length, recorded.length);
    for (const result of results)
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error}`);
  });

  it('an incompatible change to the workflow is caught by replay (DeterminismViolationError)', async function () {
    const incompatible = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/workflows/post-without-check'),
      logger: new DefaultLogger('WARN'),
    });
    const recorded = await histories();
    // A transaction's history (the incompatible bundle has no deliverEvent).
    const first = recorded.find(
      (r) =>
        r.history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ===
        'processTransaction',
    );
    assert.ok(first);
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: incompatible }, first.history, first.workflowId),
      (err: unknown) => err instanceof DeterminismViolationError,
    );
  });
});
