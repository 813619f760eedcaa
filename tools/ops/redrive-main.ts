// `npm run redrive -- [flags]`: bulk retry of failed transactions through the API (POST
// /api/transactions/retry), with a dry run first and a progress line; see --help and docs/operations.md.
import { runMain } from '../../src/config/env';
import { commandLine, type CommandSpec } from '../shared/cli';
import { formatDuration, progressLine } from '../shared/progress';
import { API_URL_FLAG, apiUrl, callApi, closeApi, describeProblem, EXIT, Unreachable } from './api-client';

const COMMAND = {
  synopsis:
    'npm run redrive -- [--status failed] [--from <t>] [--to <t>] [--error <text>] [--error-kind <k>] [--dry-run]',
  about: [
    'Retries every failed transaction the filter matches, by the single retry’s rules (a new run looks',
    'downstream before it posts), paced by the API’s REDRIVE_MAX_PER_SECOND. Safe to repeat: one already',
    'retried is skipped. It counts the matches first (a dry run), then redrives and prints what it matched,',
    'retried and skipped, and why. Exit codes: 0 done, 1 refused by the API or some skipped for an unknown',
    'outcome, 2 bad flags, 3 API unreachable.',
  ],
  flags: {
    status: { type: 'string', help: 'only failed can be retried', shown: 'failed' },
    from: { type: 'string', help: 'accepted at or after, ISO 8601' },
    to: { type: 'string', help: 'accepted before, ISO 8601' },
    error: { type: 'string', help: 'the last error contains this text (any case)' },
    'error-kind': {
      type: 'string',
      help: 'rejected, not_written, unknown, conflict, unavailable, timeout or deadline',
    },
    'dry-run': { type: 'boolean', help: 'only count and list what would be retried' },
    limit: { type: 'string', help: 'most transactions in one redrive (at most 10000)', shown: '1000' },
    'api-url': API_URL_FLAG,
    json: { type: 'boolean', help: 'print the API’s answer as JSON' },
  },
} satisfies CommandSpec;

type Values = NonNullable<ReturnType<typeof commandLine<typeof COMMAND.flags>>>['values'];

/** The request body from the flags; the API validates it and names any bad field. */
export function redriveBody(v: Values, dryRun: boolean): Record<string, unknown> {
  const limit = v.limit === undefined ? undefined : /^\d+$/.test(v.limit) ? Number(v.limit) : v.limit;
  return {
    ...(v.status !== undefined && { status: v.status }),
    ...(v.from !== undefined && { from: v.from }),
    ...(v.to !== undefined && { to: v.to }),
    ...(v.error !== undefined && { error: v.error }),
    ...(v['error-kind'] !== undefined && { error_kind: v['error-kind'] }),
    ...(limit !== undefined && { limit }),
    dry_run: dryRun,
  };
}

interface Result {
  matched: number;
  retried: number;
  skipped: number;
  skipped_by_reason: Record<string, number>;
  more_may_match: boolean;
}

const err = (line: string) => process.stderr.write(`${line}\n`);

async function redrive(base: string, v: Values): Promise<number> {
  const dry = await callApi(base, 'POST', '/api/transactions/retry', redriveBody(v, true));
  if (dry.status !== 200) {
    err(`redrive: refused: ${describeProblem(dry)}`);
    return EXIT.refused;
  }
  const counted = dry.body as Result;
  err(
    `redrive: ${counted.matched} failed transaction(s) match${counted.more_may_match ? ' (limit reached)' : ''}`,
  );
  if (v['dry-run'] || counted.matched === 0) {
    process.stdout.write(
      `${JSON.stringify(v.json ? dry.body : { matched: counted.matched }, null, v.json ? 2 : 0)}\n`,
    );
    return EXIT.ok;
  }
  const startedAt = Date.now();
  // The API answers when done: a line every 5 s shows it is still at work.
  const progress = progressLine(
    process.stderr,
    () => `redrive: retrying ${counted.matched}, ${formatDuration(Date.now() - startedAt)} elapsed`,
  );
  const answer = await callApi(base, 'POST', '/api/transactions/retry', redriveBody(v, false)).finally(() =>
    progress.stop(),
  );
  if (answer.status !== 200) {
    err(`redrive: refused: ${describeProblem(answer)}`);
    return EXIT.refused;
  }
  const r = answer.body as Result;
  if (v.json) process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
  else {
    const reasons = Object.entries(r.skipped_by_reason)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    process.stdout.write(
      `redrive: matched ${r.matched}, retried ${r.retried}, skipped ${r.skipped}${reasons ? ` (${reasons})` : ''}` +
        `${r.more_may_match ? '; more may match: run it again' : ''}\n`,
    );
  }
  const unknown =
    (r.skipped_by_reason.outcome_unknown ?? 0) + (r.skipped_by_reason.temporal_unavailable ?? 0);
  return unknown > 0 ? EXIT.refused : EXIT.ok;
}

void runMain(async () => {
  const cli = commandLine(COMMAND);
  if (!cli) return;
  const base = apiUrl(cli.values['api-url']);
  try {
    process.exitCode = await redrive(base, cli.values);
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    err(`redrive: API unreachable: ${e.message}`);
    process.exitCode = EXIT.unreachable;
  } finally {
    await closeApi();
  }
});
