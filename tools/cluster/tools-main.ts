// `npm run cluster:tools`: builds (first time) or finds the cluster's Go binaries, with progress on stderr,
// and prints their paths, so CI can build them as a step of their own before the tests.
import { runMain } from '../../src/config/env';
import { commandLine, type CommandSpec } from '../shared/cli';
import { progressReporter } from '../stack/progress';
import { obtainClusterTools } from './tools';

const COMMAND = {
  synopsis: 'npm run cluster:tools',
  about: [
    "Builds (first time) or finds the cluster's Go binaries, with progress on stderr, and prints their paths:",
    'the Temporal server, its SQL tool and the UI server. Exit code: 0 found, 1 failed (the message says how).',
  ],
  flags: {},
} satisfies CommandSpec;

void runMain(async () => {
  if (!commandLine(COMMAND)) return;
  const reporter = progressReporter(process.stderr);
  try {
    const tools = await obtainClusterTools({ onProgress: reporter.onProgress });
    reporter.done();
    process.stdout.write(`${tools.server}\n${tools.sqlTool}\n${tools.uiServer}\n`);
  } catch (err) {
    reporter.done();
    // The message says what was tried and how to fix it: no stack trace.
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
});
