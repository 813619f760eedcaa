// `npm run loadtest -- [flags]`: open-loop load test of a running txflow; see `--help`.
import { runMain } from '../../src/config/env';
import { parseFlags, usage } from './options';
import { createProgress, silentProgress } from './progress';
import { writeReports } from './report-json';
import { LoadTestAbort, runLoadTest } from './run-load-test';
import { formatSummary } from './summary';

void runMain(async () => {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const options = parsed.options;
  // Ctrl-C once: stop sending, wait for what was accepted, verify and report. Twice: stop waiting, verify
  // and report. Three times: leave at once.
  const stopSending = new AbortController();
  const stopWaiting = new AbortController();
  const onSigint = () => {
    if (!stopSending.signal.aborted) {
      process.stderr.write(
        '\ninterrupted: no more sends; waiting for accepted transactions (Ctrl-C: stop waiting)\n',
      );
      stopSending.abort();
    } else if (!stopWaiting.signal.aborted) {
      process.stderr.write('\nstopped waiting: checking and reporting (Ctrl-C: quit)\n');
      stopWaiting.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  const progress = options.quiet ? silentProgress : createProgress(process.stdout);
  try {
    const result = await runLoadTest(options, {
      progress,
      signal: stopSending.signal,
      stopWaiting: stopWaiting.signal,
    });
    process.stdout.write(`\n${formatSummary(result)}\n`);
    const files = await writeReports(result, options.out);
    process.stdout.write(`reports: ${files.json}\n         ${files.html}\n`);
    process.exitCode = result.passed ? 0 : 1;
  } catch (err) {
    if (!(err instanceof LoadTestAbort)) throw err;
    process.stderr.write(`cannot run the load test: ${err.message}\n`);
    process.exitCode = 3;
  } finally {
    process.off('SIGINT', onSigint);
  }
});
