/**
 * Regenerates docs/web-ui-filtered.png, the README's picture of the Temporal Web UI listing the failed
 * transactions (`TxStatus = "failed"`). Starts its own in-memory dev server with the Web UI on free ports,
 * the mock, a worker and the API in this process; runs a few transactions, some failing under injected
 * faults; opens the filtered list in headless Chromium. After `npm run build`:
 *   node dist/test/tools/screenshot-web-ui.js [output.png]
 */
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { createLogger } from '../../src/config/logger';
import { startDevServer, type DevServer } from '../../tools/stack/dev-server';
import { freePort } from '../../tools/shared/ports';
import { obtainTemporalCli } from '../../tools/stack/temporal-cli';
import { testApp } from '../support/api';
import { launchChromium } from '../support/chromium';
import type { RunningWorker } from '../support/harness';
import type { RunningMock } from '../support/mock-server';
import { TEST_TEMPORAL_ADDRESS_ENV } from '../support/temporal';

const OUT = path.resolve(
  process.argv[2] ?? path.join(__dirname, '..', '..', '..', 'docs', 'web-ui-filtered.png'),
);
const QUERY = 'TxStatus = "failed"';
const MAX_BYTES = 300 * 1024;

async function main(): Promise<void> {
  const log = createLogger('screenshot');
  const cliPath = await obtainTemporalCli({ log });
  let server: DevServer | undefined;
  let mock: RunningMock | undefined;
  let worker: RunningWorker | undefined;
  let api: Server | undefined;
  let closeClient: (() => Promise<void>) | undefined;
  try {
    server = await startDevServer({
      cliPath,
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      log,
    });
    if (!server.uiUrl) throw new Error('the dev server started without its Web UI');
    process.stdout.write(`dev server ${server.address}, Web UI ${server.uiUrl}\n`);
    // The test harness reads the server's address from here (it is loaded after this is set).
    process.env[TEST_TEMPORAL_ADDRESS_ENV] = server.address;
    const { fastPolicy, startWorker, testClient } = await import('../support/harness');
    const { startMock } = await import('../support/mock-server');

    mock = await startMock({ postLatencyMs: { min: 5, max: 40 } });
    const taskQueue = 'txflow';
    worker = await startWorker({ taskQueue, postingUrl: mock.url });
    const client = await testClient();
    closeClient = () => client.connection.close();
    const listen = (app: ReturnType<typeof testApp>) =>
      new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
    api = await listen(testApp(client, taskQueue));
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    // Failing ones get a 3 s deadline: every POST is refused before writing until it passes.
    const failingApi = await listen(testApp(client, taskQueue, fastPolicy({ deadlineMs: 3_000 })));
    const failingBase = `http://127.0.0.1:${(failingApi.address() as AddressInfo).port}`;

    const submit = async (url: string, id: string, amount: string, currency: string) => {
      const res = await fetch(`${url}/api/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          amount,
          currency,
          description: `invoice ${id.slice(-2)}`,
          source_account: 'acc_a',
          destination_account: 'acc_b',
        }),
      });
      if (res.status !== 202) throw new Error(`${id}: answered ${res.status}: ${await res.text()}`);
    };
    const statusOf = async (id: string) =>
      ((await (await fetch(`${base}/api/transactions/${id}`)).json()) as { status: string }).status;
    const waitFor = async (ids: string[], status: string) => {
      for (const id of ids) {
        while ((await statusOf(id)) !== status) await sleep(200);
      }
    };

    const ok = ['150.50 INR', '99.90 EUR', '1200 JPY', '42.000 BHD', '18.75 USD', '310.00 GBP'];
    const okIds = ok.map((_, i) => `tx-10${String(i + 1).padStart(2, '0')}`);
    await Promise.all(
      ok.map((a, i) => submit(base, okIds[i] as string, ...(a.split(' ') as [string, string]))),
    );
    await waitFor(okIds, 'completed');

    mock.faults.update({ preWriteFailureRate: 1 });
    const bad = ['75.00 EUR', '2500.00 INR', '12.30 USD'];
    const badIds = bad.map((_, i) => `tx-20${String(i + 1).padStart(2, '0')}`);
    await Promise.all(
      bad.map((a, i) => submit(failingBase, badIds[i] as string, ...(a.split(' ') as [string, string]))),
    );
    await waitFor(badIds, 'failed');
    mock.faults.update({ preWriteFailureRate: 0 });
    failingApi.close();

    process.stdout.write(`${okIds.length} completed, ${badIds.length} failed; opening the Web UI\n`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 500 }, colorScheme: 'light' });
      const url = `${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(QUERY)}`;
      await page.goto(url);
      // The list is loaded when each failed ID is on the page (and none of the completed ones).
      for (const id of badIds) await page.getByText(id, { exact: true }).first().waitFor({ timeout: 60_000 });
      // More room for the list, and txflow's search attributes as columns instead of the run ID.
      await page.getByRole('button', { name: 'Collapse saved views' }).click();
      await page.getByTestId('workflows-summary-table-configuration-button').click();
      for (const column of ['Run ID', 'End']) {
        await page.getByTestId(`orderable-list-item-${column}-remove-button`).click();
      }
      for (const column of ['TxStatus', 'TxAmount', 'TxCurrency', 'Execution Duration']) {
        await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
      }
      await page.getByTestId('drawer-close-button').click();
      await page.evaluate(
        'window.scrollTo(0, 0); document.querySelectorAll("*").forEach((e) => { e.scrollTop = 0; })',
      );
      await sleep(1_000); // let the count and the icons settle
      for (const id of okIds) {
        if ((await page.getByText(id, { exact: true }).count()) > 0) throw new Error(`${id} is listed`);
      }
      await mkdir(path.dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT });
    } finally {
      await browser.close();
    }
    const bytes = statSync(OUT).size;
    process.stdout.write(`${OUT}: ${Math.round(bytes / 1024)} KB\n`);
    if (bytes > MAX_BYTES) throw new Error(`${OUT} is ${bytes} bytes, over ${MAX_BYTES}`);
  } finally {
    api?.closeAllConnections();
    api?.close();
    await worker?.stop();
    await closeClient?.();
    await mock?.stop();
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
