// `npm run temporal:cli`: obtains the Temporal CLI (building it on first use, with progress on stderr)
// and prints only its path on stdout, so `.ci/run` and bootstrap can pre-build it before anything else.
import { runMain } from '../../src/config/env';
import { commandLine, type CommandSpec } from '../shared/cli';
import { progressReporter } from './progress';
import { obtainTemporalCli } from './temporal-cli';

const COMMAND = {
  synopsis: 'npm run temporal:cli',
  about: [
    'Finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, the cache) or builds it on first use, with progress on',
    'stderr, and prints only its path on stdout. Exit code: 0 found, 1 every way failed (the message says how).',
  ],
  flags: {},
} satisfies CommandSpec;

void runMain(async () => {
  if (!commandLine(COMMAND)) return;
  const reporter = progressReporter(process.stderr);
  try {
    const path = await obtainTemporalCli({ onProgress: reporter.onProgress });
    reporter.done();
    process.stdout.write(`${path}\n`);
  } catch (err) {
    reporter.done();
    // The message already says what was tried and how to fix it: no stack trace.
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
});
