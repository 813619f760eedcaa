// `npm run posting-rate -- [<n>|none]`: shows or changes the posting rate cap through the API
// (PUT /api/admin/posting-rate); see --help and docs/operations.md.
import { runMain } from '../../src/config/env';
import { commandLine, FlagError, type CommandSpec } from '../shared/cli';
import { API_URL_FLAG, apiUrl, callApi, closeApi, describeProblem, EXIT, Unreachable } from './api-client';

const COMMAND = {
  synopsis: 'npm run posting-rate -- [<max per second>|none] [flags]',
  about: [
    'Shows the posting rate cap (downstream calls per second across all workers), or changes it at once,',
    'without restarting anything: a number sets the operator cap (it wins over the workers’',
    'POSTING_MAX_PER_SECOND and survives restarts); `none` removes it. Exit codes: 0 done, 1 refused by the',
    'API, 2 bad arguments, 3 API unreachable.',
  ],
  flags: { 'api-url': API_URL_FLAG, json: { type: 'boolean', help: 'print the answer as JSON' } },
  positionals: true,
} satisfies CommandSpec;

/** The PUT body for the argument: a positive number, or `none` (null); undefined: only show. */
export function rateArgument(positionals: readonly string[]): number | null | undefined {
  if (positionals.length === 0) return undefined;
  if (positionals.length > 1) throw new FlagError('give one value: a number above 0, or none');
  const [arg] = positionals as [string];
  if (arg === 'none') return null;
  const n = Number(arg);
  if (!/^\d+(\.\d+)?$/.test(arg) || !(n > 0) || n > 100_000) {
    throw new FlagError(`<max per second>: must be a number above 0 and at most 100000, or none; got ${arg}`);
  }
  return n;
}

void runMain(async () => {
  const cli = commandLine(COMMAND);
  if (!cli) return;
  const base = apiUrl(cli.values['api-url']);
  const value = rateArgument(cli.positionals);
  try {
    const answer =
      value === undefined
        ? await callApi(base, 'GET', '/api/admin/posting-rate')
        : await callApi(base, 'PUT', '/api/admin/posting-rate', { max_per_second: value });
    if (answer.status !== 200) {
      process.stderr.write(`posting-rate: refused: ${describeProblem(answer)}\n`);
      process.exitCode = EXIT.refused;
      return;
    }
    const rate = answer.body as { max_per_second: number | null; source: string };
    if (cli.values.json) process.stdout.write(`${JSON.stringify(rate, null, 2)}\n`);
    else {
      const cap = rate.max_per_second === null ? 'no cap' : `${rate.max_per_second}/s`;
      process.stdout.write(`posting rate: ${cap} (source: ${rate.source})\n`);
    }
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    process.stderr.write(`posting-rate: API unreachable: ${err.message}\n`);
    process.exitCode = EXIT.unreachable;
  } finally {
    await closeApi();
  }
});
