// `npm run replay -- <id...> | --query '<visibility query>'`: replays what runs on the configured Temporal
// server against the current workflow code, before a deploy. See --help and docs/operations.md.
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import pino from 'pino';
import { runMain } from '../../src/config/env';
import { createLogger } from '../../src/config/logger';
import {
  describeTemporalConnection,
  temporalConnectionOptions,
  temporalSettings,
  type TemporalSettings,
} from '../../src/config/temporal';
import { BUNDLE_PATH, workflowBundle } from '../../src/worker/workflow-bundle';
import { FlagError, renderUsage } from '../shared/cli';
import { fetchHistories, selectTargets } from './histories';
import { COMMAND, parseReplayFlags, type ReplayOptions } from './options';
import { replayFetched, type Outcome } from './replay';
import { progressLine } from '../shared/progress';
import { countOutcomes, EXIT, exitCode, formatOutcome, formatSummary } from './report';

const err = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

/** Thrown when Temporal cannot be reached or does not serve the namespace: exit code 3. */
class Unreachable extends Error {}

async function connect(settings: TemporalSettings): Promise<Client> {
  const where = `Temporal at ${settings.address}`;
  const connection = await Connection.connect({
    ...temporalConnectionOptions(settings),
    connectTimeout: 10_000,
  }).catch((e: unknown) => {
    throw new Unreachable(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  });
  // An unknown namespace would otherwise look like every ID not found.
  await connection.workflowService
    .describeNamespace({ namespace: settings.namespace })
    .catch((e: unknown) => {
      void connection.close();
      throw new Unreachable(`${where}, namespace ${settings.namespace}: ${(e as Error).message}`);
    });
  return new Client({ connection, namespace: settings.namespace });
}

/** The worker's workflow code (its bundle, rebuilt when stale, as the worker does), or --workflows bundled now. */
async function workflowCode(options: ReplayOptions): Promise<WorkflowBundleOption> {
  if (options.workflowsPath === undefined) return workflowBundle(createLogger('replay', pino.destination(2)));
  return bundleWorkflowCode({ workflowsPath: options.workflowsPath, logger: new DefaultLogger('WARN') });
}

async function replay(options: ReplayOptions, settings: TemporalSettings): Promise<number> {
  const startedAt = Date.now();
  const client = await connect(settings);
  try {
    const connection = describeTemporalConnection(settings);
    err(`replay: ${settings.address}, namespace ${settings.namespace}, TLS ${connection.tls ? 'on' : 'off'}`);
    let listed = 0;
    const listing = progressLine(process.stderr, () => `replay: listing runs, ${listed} so far`);
    const { targets, truncated } = await selectTargets(client, options.selection, (n) => (listed = n))
      .catch((e: unknown) => {
        // A refused query is a FlagError (exit 2); anything else means the server did not answer.
        if (e instanceof FlagError) throw e;
        throw new Unreachable(`listing runs: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(listing.stop);
    if (truncated)
      err(`replay: more runs match than --limit ${targets.length}: replaying the newest ${targets.length}`);
    if (targets.length === 0) err('replay: no run matches the query: nothing to replay');
    err(`replay: workflow code ${options.workflowsPath ?? BUNDLE_PATH}`);
    const bundle = await workflowCode(options);

    // Just before the replay worker: the runtime lives until its last worker is gone, so installing it
    // earlier would keep the process alive after a failed connect. The SDK's lines only when they matter.
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
    const outcomes: Outcome[] = [];
    const progress = progressLine(process.stderr, () => {
      const c = countOutcomes(outcomes);
      const broken = c.nondeterminism + c.failed;
      const elapsed = Math.round((Date.now() - startedAt) / 1000);
      return `replay: ${outcomes.length}/${targets.length} replayed, ${broken} broken, ${elapsed}s`;
    });
    try {
      for await (const outcome of replayFetched(
        { workflowBundle: bundle },
        fetchHistories(client, targets),
      )) {
        outcomes.push(outcome);
        if (!options.json) out(formatOutcome(outcome));
      }
    } finally {
      progress.stop();
    }
    const counts = countOutcomes(outcomes);
    const summary = formatSummary(counts, Date.now() - startedAt);
    if (options.json) out(JSON.stringify({ summary: counts, truncated, outcomes }, null, 2));
    else out(summary);
    return exitCode(counts);
  } finally {
    await client.connection.close();
  }
}

void runMain(async () => {
  const options = parseReplayFlags(process.argv.slice(2));
  if (options === 'help') return;
  if (options === 'usage') {
    out(renderUsage(COMMAND));
    process.exitCode = EXIT.flags;
    return;
  }
  const settings = temporalSettings();
  try {
    process.exitCode = await replay(options, settings);
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    err(`cannot replay: ${e.message}`);
    process.exitCode = EXIT.unreachable;
  }
});
