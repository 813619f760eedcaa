// Child process entry for the SDK's own CLI download (see sdk-download.ts): kept out of the caller's
// process because it installs the SDK's native Runtime, which must be installed once, by the app.
import { TestWorkflowEnvironment } from '@temporalio/testing';

async function main(): Promise<void> {
  const downloadDir = process.argv[2];
  if (!downloadDir) throw new Error('usage: sdk-download-main <download dir>');
  // The SDK downloads, then starts a server it gives only 5 s: a slow start fails after a good
  // download, so the parent judges by the downloaded file, not by this outcome.
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await env.teardown();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
