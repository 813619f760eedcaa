// `npm run reconcile -- [flags]`: txflow's completed transactions against the posting service's rows.
import { ConfigError, runMain } from '../config/env';
import { readOnlyPostingClient } from './downstream-side';
import { parseFlags, usage } from './options';
import { createStepProgress } from './progress';
import { formatReport, writeReport } from './report';
import { reconcile } from './run';
import { connectTemporal } from './txflow-side';

void runMain(async () => {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const options = parsed.options;
  const progress = createStepProgress(process.stderr);
  const posting = readOnlyPostingClient(
    options.posting,
    options.httpTimeoutMs ?? 60_000,
    options.concurrency ?? 16,
  );
  try {
    const client = await connectTemporal(options);
    try {
      const report = await reconcile(options, {
        client,
        posting,
        progress: (step, done, total) => progress.update(step, done, total),
      });
      progress.stop();
      process.stdout.write(`${formatReport(report, options.limit)}\n`);
      const file = await writeReport(report, options.out);
      process.stdout.write(`report: ${file}\n`);
      process.exitCode = report.ok ? 0 : 1;
    } finally {
      await client.connection.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    progress.stop();
    // Not a mismatch: the comparison could not be made (a service unreachable, an answer unreadable).
    process.stderr.write(`cannot reconcile: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  } finally {
    await posting.close();
  }
});
