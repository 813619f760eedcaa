import assert from 'node:assert/strict';
import { ConfigError } from '../src/config/env';
import { parseAmount } from '../src/domain/money';
import { faultPatch, restorePatch } from '../tools/loadtest/mock-admin';
import { FlagError, parseFlags, usage } from '../tools/loadtest/options';
import { uniformArrivals } from '../tools/shared/schedule';
import { buildWorkload, makeTransaction, runIdPrefix } from '../tools/loadtest/workload';
import { mockSettings } from '../tools/mock/config';
import { mulberry32 } from '../tools/shared/random';

describe('loadtest: workload and options', function () {
  it('makes valid transactions in both dialects, with canonical amounts', function () {
    const random = mulberry32(5);
    const txs = Array.from({ length: 400 }, (_, i) =>
      makeTransaction('lt-x-', i, 'performance', 0.3, random),
    );
    const webhook = txs.filter((t) => t.dialect === 'webhook').length;
    assert.ok(webhook > 80 && webhook < 160, `webhook ${webhook}`);
    for (const tx of txs) {
      const body = JSON.parse(tx.body) as Record<string, unknown>;
      assert.equal(tx.dialect === 'api' ? body.id : body.transaction_id, tx.id);
      const parsed = parseAmount(body.amount, tx.currency);
      assert.ok(parsed.ok, tx.body);
      assert.equal(parsed.ok && parsed.amount, tx.amount, 'what the downstream must hold');
      assert.notEqual(body.source_account, body.destination_account);
    }
    const { idPrefix } = runIdPrefix(new Date('2026-11-23T10:00:00.123Z'), () => 0.5);
    assert.match(idPrefix, /^lt-20261123T100000Z-[0-9a-z]{4}-$/);
  });

  it('adds duplicates: the asked share, same body, concurrent ones at the same instant', function () {
    const { items, transactions } = buildWorkload({
      arrivals: uniformArrivals(100, 2_000),
      windowMs: 20_000,
      phase: 'performance',
      idPrefix: 'lt-y-',
      firstN: 10,
      duplicates: 0.2,
      webhookShare: 0.5,
      random: mulberry32(11),
    });
    assert.equal(transactions.length, 2_000);
    assert.equal(transactions[0]?.id, 'lt-y-10');
    const dups = items.filter((i) => i.item.kind !== 'original');
    const share = dups.length / items.length;
    assert.ok(Math.abs(share - 0.2) < 0.03, `duplicate share ${share}`);
    assert.ok(
      items.every((it, i) => i === 0 || it.atMs >= (items[i - 1] as { atMs: number }).atMs),
      'sorted',
    );
    const originalAt = new Map(
      items.filter((i) => i.item.kind === 'original').map((i) => [i.item.tx.id, i.atMs]),
    );
    for (const d of dups) {
      const at = originalAt.get(d.item.tx.id) as number;
      if (d.item.kind === 'duplicate-concurrent') assert.equal(d.atMs, at);
      else assert.ok(d.atMs > at && d.atMs <= at + 3_000 && d.atMs < 20_000);
    }
    assert.ok(dups.some((d) => d.item.kind === 'duplicate-concurrent'));
    assert.ok(dups.some((d) => d.item.kind === 'duplicate-later'));
  });

  it('parses flags with defaults, --quick defaults, and overrides', function () {
    const full = parseFlags([], () => 42);
    assert.ok(!full.help);
    const o = full.options;
    assert.equal(o.api, 'http://127.0.0.1:3000');
    assert.equal(o.mock, 'http://127.0.0.1:8080');
    assert.deepEqual(o.phases, ['warmup', 'performance', 'stress']);
    assert.equal(o.rate, 20);
    assert.equal(o.warmupRate, 10);
    assert.equal(o.seed, 42);
    assert.deepEqual(o.faults, {});
    assert.deepEqual([o.sweepSeconds, o.drainSweepSeconds, o.sweepPollRate], [5, 2, 5]);
    assert.deepEqual([o.pollRate, o.drainPollRate], [10, 100]);
    const quick = parseFlags(['--quick', '--rate', '8', '--transactions', '16', '--mock', 'none'], () => 1);
    assert.ok(!quick.help);
    assert.equal(quick.options.quick, true);
    assert.equal(quick.options.rate, 8);
    assert.equal(quick.options.durationSeconds, 2);
    assert.equal(quick.options.transactions, 16);
    assert.equal(quick.options.mock, null);
    assert.equal(quick.options.stressMax, 30);
    const faults = parseFlags(
      [
        '--pre-write',
        '0.2',
        '--post-write=0.1',
        '--get-failure',
        '0',
        '--post-latency',
        '0-50',
        '--phases',
        'stress,warmup',
      ],
      () => 1,
    );
    assert.ok(!faults.help);
    assert.deepEqual(faults.options.faults, {
      preWriteFailureRate: 0.2,
      postWriteFailureRate: 0.1,
      getFailureRate: 0,
      postLatencyMs: { min: 0, max: 50 },
    });
    assert.deepEqual(faults.options.phases, ['warmup', 'stress'], 'natural order');
    assert.deepEqual(parseFlags(['--help']), { help: true });
    assert.match(usage(), /--stress-step-seconds <v>\s+stress: length of each step\s+15 \(3\)/);
  });

  it('refuses bad flags naming each one (exit code 2 through runMain)', function () {
    const bad = (argv: string[], ...patterns: RegExp[]) => {
      assert.throws(
        () => parseFlags(argv),
        (err: unknown) => {
          assert.ok(err instanceof FlagError && err instanceof ConfigError);
          for (const p of patterns) assert.match(err.message, p);
          return true;
        },
      );
    };
    bad(['--rate', 'fast'], /--rate="fast": must be a number/);
    bad(['--rate', '0'], /--rate="0": must be greater than 0/);
    bad(
      ['--duplicates', '0.8', '--webhook-share', '2'],
      /--duplicates="0.8"/,
      /--webhook-share="2": must be at most 1/,
    );
    bad(['--nope'], /Unknown option '--nope'/);
    bad(['--phases', 'warmup,soak'], /--phases="warmup,soak"/);
    bad(['--api', 'localhost:3000'], /--api="localhost:3000": must be an http\(s\) URL/);
    bad(['--post-latency', '50-10'], /--post-latency="50-10": min must not exceed max/);
    bad(['--duration', '5', '--transactions', '10'], /--duration, --transactions: give one of them/);
    bad(['--mock', 'none', '--pre-write', '0.1'], /--pre-write: needs a mock/);
    bad(['--stress-start', '50', '--stress-max', '10'], /--stress-max=10/);
    bad(['extra'], /positional/i);
    bad(['--sweep-seconds', 'often'], /--sweep-seconds="often": must be a number/);
    bad(['--sweep-poll-rate', '0'], /--sweep-poll-rate="0": must be greater than 0/);
  });

  it('restores exactly the fault knobs it changed', function () {
    const previous = mockSettings({}, () => 9).faults;
    const patch = faultPatch({ preWriteFailureRate: 0.2, postLatencyMs: { min: 0, max: 50 } });
    assert.deepEqual(patch, { preWriteFailureRate: 0.2, postLatencyMs: { min: 0, max: 50 } });
    assert.deepEqual(restorePatch(previous, patch), {
      preWriteFailureRate: 0,
      postLatencyMs: { min: 0, max: 0 },
    });
  });
});
