// `npm run replay` as a real process against the test server: histories of transactions a real worker ran,
// replayed on the current workflow code (ok), then on an incompatible change (test/fixtures/workflows).
import assert from 'node:assert/strict';

import path from 'node:path';
import { eventually } from './support/eventually';
import { runProcess, type RunResult } from './support/run-process';
import { newTransaction } from './support/harness';
import { testTemporalAddress } from './support/temporal';
import { useWorkflowEnv } from './support/workflow-env';

const MAIN = path.join(__dirname, '..', 'tools', 'replay', 'main.js');
const INCOMPATIBLE = path.join(__dirname, 'fixtures', 'workflows', 'post-without-check.js');

function replay(args: string[], address = testTemporalAddress()): Promise<RunResult> {
  const env = { PATH: process.env.PATH, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' };
  return runProcess(process.execPath, [MAIN, ...args], env, 110_000);
}

const lineOf = (stdout: string, id: string) => stdout.split('\n').find((l) => l.includes(id)) ?? '';

describe('npm run replay (a real process against the test server)', function () {
  this.timeout(120_000);
  const env = useWorkflowEnv({ queuePrefix: 'replay-cmd', worker: { postingTimeoutMs: 500 } });
  const ids: string[] = [];

  before(async function () {
    // A posted one, one already held downstream, one rejected (lower-case currency): three paths.
    const txs = [newTransaction(), newTransaction(), newTransaction({ currency: 'inr' })];
    const held = txs[1];
    assert.ok(held);
    env.mock.store.add({
      id: held.id,
      amount: held.amount,
      currency: held.currency,
      description: null,
      timestamp: held.timestamp,
    });
    for (const tx of txs) {
      const handle = await env.start(tx);
      await handle.result().catch(() => undefined);
      ids.push(tx.id);
    }
  });

  it('replays each ID on the current workflow code: ok lines, a summary, exit 0', async function () {
    const result = await replay(ids);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    for (const id of ids) assert.match(lineOf(result.stdout, id), /^ok\s+tx-/, result.stdout);
    assert.match(result.stdout, /replayed 3 in .*: 3 ok/);
  });

  it('catches an incompatible change: NONDETERMINISM for each ID, exit 1', async function () {
    const result = await replay(['--workflows', INCOMPATIBLE, ...ids]);
    assert.equal(result.code, 1, result.stderr + result.stdout);
    for (const id of ids)
      assert.match(
        lineOf(result.stdout, id),
        /^NONDETERMINISM\s+tx-\S+\s+\[TMPRL1100\] Nondeterminism error: /,
        result.stdout,
      );
    assert.match(result.stdout, /3 NONDETERMINISM/);
  });

  it('--query selects by visibility (here the test task queue); --json gives one document', async function () {
    const query = `TaskQueue = "${env.taskQueue}"`;
    await eventually(async () => assert.equal((await env.client.workflow.count(query)).count, 3));
    const result = await replay(['--query', query, '--json']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const doc = JSON.parse(result.stdout) as { summary: { ok: number }; outcomes: { workflowId: string }[] };
    assert.equal(doc.summary.ok, 3);
    assert.deepEqual(doc.outcomes.map((o) => o.workflowId).sort(), [...ids].sort());
    const limited = await replay(['--query', query, '--limit', '2']);
    assert.match(limited.stdout, /replayed 2 in .*: 2 ok/);
    assert.match(limited.stderr, /more runs match than --limit 2/);
  });

  it('reports an unknown ID as not found and goes on (exit 4), a refused query as a bad flag', async function () {
    const [first] = ids;
    assert.ok(first);
    const result = await replay(['tx-no-such-transaction', first]);
    assert.equal(result.code, 4, result.stderr + result.stdout);
    assert.match(lineOf(result.stdout, 'tx-no-such-transaction'), /^not found\s+tx-no-such-transaction$/);
    assert.match(lineOf(result.stdout, first), /^ok\s+/);
    const refused = await replay(['--query', 'NoSuchAttribute = "x"']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--query/);
  });

  it('bad flags exit 2 naming the flag; an unreachable server exits 3; --help exits 0', async function () {
    for (const [args, flag] of [
      [['--nope'], /--nope/],
      [['--query', 'x', 'tx-1'], /--query/],
      [['--query', 'x', '--limit', '0'], /--limit "0"/],
      [['--workflows', '/no/such/file.js', 'tx-1'], /--workflows/],
    ] as const) {
      const result = await replay([...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, flag);
    }
    const unreachable = await replay(['tx-1'], '127.0.0.1:1');
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot replay: Temporal at 127\.0\.0\.1:1/);
    const help = await replay(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^npm run replay -- /);
  });
});
