// `npm run cluster:tools`: builds (first time) or finds the cluster's Go binaries, with progress on stderr,
// and prints their paths, so CI can build them as a step of their own before the tests.
import { runMain } from '../../src/config/env';
import { progressReporter } from '../stack/progress';
import { obtainClusterTools } from './tools';

void runMain(async () => {
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
