// `npm run chaos -- <scenario...|all> [--size small|full] [--out results]`: fault scenarios against real
// processes (dev server on a SQLite file, mock, worker(s), API), one cluster per scenario. Prints progress and
// a table, writes results/chaos-<scenario>-<time>.json, exits 1 when anything was lost, duplicated or stuck.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, runMain } from '../../src/config/env';
import { renderTable } from '../../src/reconcile/table';
import { commandLine, renderUsage, type CommandSpec } from '../shared/cli';
import { liveProcesses } from '../shared/processes';
import { Cluster } from './cluster';
import { runScenario, scenarioNames, SCENARIOS, type ScenarioResult, type Size } from './run';
import { SIZES } from './scenario';

const COMMAND = {
  synopsis: 'npm run chaos -- <scenario...|all> [--size small|full] [--out results]',
  about: [
    'Runs each scenario on its own Temporal dev server (SQLite file in a temp dir), mock, worker(s) and API,',
    'drives load, injects the fault and checks that every accepted transaction finished, posted exactly once.',
    'Exit code: 0 all passed, 1 a scenario failed, 2 bad arguments.',
  ],
  lists: [{ title: 'scenarios', rows: SCENARIOS.map((s) => [s.name, s.description] as const) }],
  flags: {
    size: { type: 'string', help: 'full, or small (the numbers npm test uses)', shown: 'full' },
    out: { type: 'string', help: 'folder of the JSON results', shown: 'results' },
  },
  positionals: true,
} satisfies CommandSpec;

const print = (line: string) => process.stdout.write(`${line}\n`);

void runMain(async () => {
  const parsed = commandLine(COMMAND);
  if (!parsed) return;
  const { positionals } = parsed;
  const values = { size: 'full', out: 'results', ...parsed.values };
  if (positionals.length === 0) {
    print(renderUsage(COMMAND));
    process.exitCode = 2;
    return;
  }
  const size = values.size as Size;
  if (!SIZES.includes(size)) throw new ConfigError(`--size ${values.size}: must be small or full`);
  const names = positionals.includes('all') ? scenarioNames() : positionals;
  const unknown = names.filter((n) => !scenarioNames().includes(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown scenario ${unknown.join(', ')}: one of ${scenarioNames().join(', ')}, all`,
    );
  }

  // Ctrl-C: stop every process the scenarios started before leaving.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      print(`\n${signal}: stopping every process started (again to leave at once)`);
      void Promise.all([...Cluster.live].map((c) => c.stop()))
        .then(() => Promise.all(liveProcesses().map((p) => p.stop(5_000))))
        .finally(() => process.exit(130));
    });
  }

  await mkdir(values.out, { recursive: true });
  const results: ScenarioResult[] = [];
  for (const name of names) {
    const result = await runScenario(name, size, print);
    results.push(result);
    const stamp = result.startedAt.replace(/[:.]/g, '-');
    const file = path.join(values.out, `chaos-${name}-${stamp}.json`);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    print(`[${name}] result: ${file}\n`);
  }
  print(table(results));
  if (results.some((r) => !r.passed)) process.exitCode = 1;
});

function table(results: readonly ScenarioResult[]): string {
  const headers = [
    'scenario',
    'submitted',
    'accepted',
    'faults',
    'lost',
    'dup',
    'pending',
    'failed',
    'recovery',
    'time',
    'result',
  ];
  const rows = results.map((r) => {
    const f = r.figures;
    return [
      r.scenario,
      String(f.submitted),
      String(f.accepted),
      f.faults,
      String(f.lost),
      String(f.duplicated),
      String(f.pending),
      String(f.failed),
      f.recoverySeconds === null ? '-' : `${f.recoverySeconds} s`,
      `${Math.round(r.durationSeconds)} s`,
      r.passed ? 'PASS' : r.error ? 'ERROR' : 'FAIL',
    ];
  });
  const failures = results.flatMap((r) =>
    r.checks.filter((c) => !c.ok).map((c) => `  ${r.scenario}: ${c.name}: ${c.detail}`),
  );
  const errors = results.filter((r) => r.error).map((r) => `  ${r.scenario}: ${r.error?.split('\n')[0]}`);
  return [
    '',
    renderTable(
      headers,
      rows,
      headers.map(() => 'left'),
    ),
    ...(failures.length > 0 ? ['', 'failed checks:', ...failures] : []),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
    '',
  ].join('\n');
}
