import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { testApp } from './support/api';
import { CallbackReceiver } from './support/callback-receiver';
import { FAST_CALLBACKS, SECRET } from './support/callback-stack';
import { launchChromium } from './support/chromium';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { eventually } from './support/eventually';

const UI = 'http://127.0.0.1:8233';
const SCREENSHOT = path.resolve(__dirname, '../../results/screenshots/test-page.png');

describe('test page in headless Chromium (real API, worker, mock and Temporal)', function () {
  this.timeout(180_000);
  let mock: RunningMock;
  let worker: RunningWorker;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let receiver: CallbackReceiver;
  const pageErrors: string[] = [];

  before(async function () {
    browser = await launchChromium();
    mock = await startMock({ postLatencyMs: { min: 0, max: 30 } });
    const taskQueue = uniqueTaskQueue('browser');
    // Callbacks on, as npm start has them: http allowed to the receiver's loopback port.
    receiver = await CallbackReceiver.start(SECRET);
    const allowedHosts = [`127.0.0.1:${receiver.port}`];
    worker = await startWorker({
      taskQueue,
      postingUrl: mock.url,
      callbacks: { signingSecret: SECRET, allowedHosts },
    });
    const app = testApp(
      await testClient(),
      taskQueue,
      undefined,
      { temporalUiUrl: UI, namespace: 'default', callbacks: { enabled: true, allowedHosts } },
      {},
      { callbacks: { subscribers: [], policy: FAST_CALLBACKS } },
    );
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    // A CSP violation or a script error shows up here; the page must have none.
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      // A 4xx the test provokes is logged as a failed resource: expected, not a page error.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
        pageErrors.push(msg.text());
    });
    page.setDefaultTimeout(30_000);
    await page.goto(`${base}/`);
  });

  after(async function () {
    await browser?.close();
    server?.closeAllConnections();
    server?.close();
    await worker?.stop();
    await receiver?.off();
    await mock?.stop();
  });

  const byTestId = (id: string) => page.getByTestId(id);
  const text = async (id: string) => (await byTestId(id).textContent()) ?? '';
  /** Waits until the element's text passes `check` (the page updates itself by polling). */
  const waitText = (id: string, check: RegExp | string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const value = await text(id);
        if (typeof check === 'string') assert.equal(value, check, `${id}: ${value}`);
        else assert.match(value, check, `${id}: ${value}`);
      },
      timeoutMs,
      100,
    );
  const row = (txId: string) => page.locator(`[data-testid="tx-row"][data-id="${txId}"]`);

  it('renders the health figures from /api/health', async function () {
    await waitText('health-status', 'ok');
    assert.equal(await byTestId('health-status').getAttribute('data-status'), 'ok');
    assert.match((await byTestId('health-temporal').textContent()) ?? '', /^reachable \(\d+ ms\)$/);
    await waitText('health-workers', '1');
    assert.match((await byTestId('health-queue-depth').textContent()) ?? '', /^\d+$/);
    assert.match((await byTestId('health-backlog').textContent()) ?? '', /^\d+ \/ \d+$/);
    assert.match((await byTestId('health-meta').textContent()) ?? '', /^task queue browser-/);
    // No probe configured and nothing stalled: the downstream is judged ok.
    await waitText('health-downstream', 'ok');
  });

  it('submits the form and shows the transaction reach completed, with a Web UI link to its run', async function () {
    await byTestId('amount').fill('42.10');
    await byTestId('currency').selectOption('EUR');
    await byTestId('description').fill('from the browser test');
    await byTestId('submit').click();
    await waitText('form-result', /^202 for /);
    const result = await text('form-result');
    const txId = result.replace(/^202 for /, '');
    assert.ok(txId.length > 0, result);

    // The list updates itself (polling): no reload.
    await page.locator(`[data-testid="tx-row"][data-id="${txId}"][data-status="completed"]`).waitFor();
    assert.equal(await row(txId).getByTestId('tx-amount').textContent(), '42.10');
    assert.equal(await row(txId).getByTestId('tx-currency').textContent(), 'EUR');
    assert.equal(await row(txId).getByTestId('tx-status').textContent(), 'completed');
    assert.equal(await row(txId).getByTestId('tx-attempts').textContent(), '2');
    assert.equal(await row(txId).getByTestId('tx-responses').textContent(), '202');
    assert.match((await row(txId).getByTestId('tx-completed').textContent()) ?? '', /^\d+\.\d\d s$/);
    assert.equal(mock.store.copies(txId), 1);

    const href = await row(txId).getByTestId('tx-run-link').getAttribute('href');
    assert.equal(href, `${UI}/namespaces/default/workflows/${encodeURIComponent(txId)}`);
    assert.ok(href?.includes('/namespaces/default/') && href.includes(txId));
  });

  it('submits through the webhook dialect too: a repeat answers 202 again and is deduplicated', async function () {
    const txId = `web-${Date.now().toString(36)}`;
    await byTestId('dialect-v1').check();
    assert.equal(await byTestId('description').isDisabled(), true, 'the webhook body has no description');
    for (let i = 0; i < 2; i++) {
      await byTestId('tx-id').fill(txId);
      await byTestId('submit').click();
      await waitText('form-result', i === 0 ? `202 for ${txId}` : `202 for ${txId}, a repeat: deduplicated`);
    }
    await page.locator(`[data-testid="tx-row"][data-id="${txId}"][data-status="completed"]`).waitFor();
    assert.equal(await row(txId).getByTestId('tx-responses').textContent(), '202, 202 (dedup.)');
    // Its final state comes in full from /api/transactions/{id}, not from the webhook answer alone.
    assert.equal(await row(txId).getByTestId('tx-attempts').textContent(), '2');
    assert.equal(mock.store.copies(txId), 1);
    await byTestId('dialect-api').check();
  });

  it('shows a refused submission as a problem naming the field, next to the input', async function () {
    await byTestId('amount').fill('12.345');
    await byTestId('submit').click();
    await byTestId('form-errors').waitFor({ state: 'visible' });
    assert.match((await byTestId('problem-title').textContent()) ?? '', /^400 /);
    const fieldError = page.locator('[data-testid="field-error"][data-field="body.amount"]');
    assert.equal(await fieldError.count(), 1);
    assert.equal(await byTestId('amount').getAttribute('aria-invalid'), 'true');
    assert.notEqual((await byTestId('amount-error').textContent()) ?? '', '');
    await byTestId('amount').fill('150.50');
  });

  it('sends a burst (duplicates deduplicated), all reach completed, and the health counts them', async function () {
    await byTestId('burst-size').selectOption('10');
    await byTestId('burst').click();
    await waitText('form-result', /^Burst: 10 transactions/);
    assert.equal(
      await byTestId('form-result').textContent(),
      'Burst: 10 transactions, 2 of them submitted twice (12 requests), 12 answered 200/202, 0 refused.',
    );
    assert.equal(await byTestId('form-errors').isHidden(), true, 'the earlier problem is cleared');
    // The two earlier submissions plus ten; every one completed, through live updates.
    await waitText('tx-summary', '12 · 12 completed · 0 failed · 0 open');
    const twice = page.locator('[data-testid="tx-row"][data-id^="burst-"] [data-testid="tx-responses"]', {
      hasText: '(dedup.)',
    });
    assert.equal(await twice.count(), 2);
    // Newest first by submission time (the API's), whatever order the answers came back in.
    const submitted = await page
      .locator('[data-testid="tx-row"] [data-testid="tx-submitted"]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('title') ?? ''));
    assert.equal(submitted.length, 12);
    assert.deepEqual(submitted, [...submitted].sort().reverse());
    // The wide table scrolls inside its panel: the page itself never scrolls sideways.
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true);
    const stats = mock.store.stats();
    assert.equal(stats.distinctIds, 12);
    assert.deepEqual(stats.duplicates, [], 'a duplicate submission is never posted twice');

    // The health figures follow: nothing left in the queue, the finished ones in the error rate.
    await waitText('health-queue-depth', '0');
    // The health window is one minute: the burst's ten at least (all twelve unless the machine is very slow).
    await waitText('health-error-rate', /^0\.00 % \(0 of (1[0-2]) in 1 min 0 s\)$/);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
    assert.deepEqual(pageErrors, [], 'no script error or CSP violation in the page');
  });

  it('"wait for the result" sends Prefer: wait and shows the final answer, 201', async function () {
    assert.equal(
      await byTestId('wait-label')
        .textContent()
        .then((t) => t?.trim()),
      'wait for the result (up to 10 s)',
    );
    await byTestId('wait').check();
    await byTestId('amount').fill('7.00');
    await byTestId('submit').click();
    await waitText('form-result', /^201 for .*, final: completed$/);
    const txId = (await text('form-result')).replace(/^201 for /, '').replace(/, final: completed$/, '');
    await page.locator(`[data-testid="tx-row"][data-id="${txId}"][data-status="completed"]`).waitFor();
    assert.equal(await row(txId).getByTestId('tx-responses').textContent(), '201');
    assert.equal(mock.store.copies(txId), 1);
    await byTestId('dialect-v1').check();
    assert.equal(await byTestId('wait').isDisabled(), true, 'the webhook dialect does not wait');
    await byTestId('dialect-api').check();
    await byTestId('wait').uncheck();
    assert.deepEqual(pageErrors, []);
  });

  it('a transaction sent with a callback URL shows its delivered event in the callback log', async function () {
    // A URL the API refuses: its message next to the field.
    await byTestId('callback-url').fill('http://example.com/hook');
    await byTestId('submit').click();
    await byTestId('form-errors').waitFor({ state: 'visible' });
    assert.equal(await byTestId('callback-url').getAttribute('aria-invalid'), 'true');
    assert.match(await text('callback-url-error'), /https/);

    const url = receiver.url('/from-page');
    await byTestId('callback-url').fill(url);
    await byTestId('amount').fill('3.30');
    await byTestId('submit').click();
    await waitText('form-result', /^202 for /);
    const txId = (await text('form-result')).replace(/^202 for /, '');
    await byTestId('callback-url').fill('');
    await page.locator(`[data-testid="tx-row"][data-id="${txId}"][data-status="completed"]`).waitFor();

    await byTestId('events-id').fill(txId);
    // The log is read on each Show: ask again until the delivery's run has closed delivered.
    const delivered = page.locator('[data-testid="event-row"] [data-testid="event-state"]', {
      hasText: 'delivered',
    });
    await eventually(
      async () => {
        await byTestId('events-show').click();
        await delivered.waitFor({ timeout: 1_000 });
      },
      30_000,
      250,
    );
    const [received] = receiver.delivered().filter((d) => JSON.parse(d.body).data.transactionId === txId);
    assert.ok(received?.verified, 'the receiver got it, signed');
    const event = JSON.parse(received.body);
    assert.equal(await text('events-note'), '1 event(s)');
    const cells = await page.locator('[data-testid="event-row"] td').allTextContents();
    assert.deepEqual(cells.slice(0, 4), [`transaction.completed ${event.id}`, `0: ${url}`, 'delivered', '1']);
    assert.equal(receiver.delivered(event.id).length, 1);
    assert.deepEqual(pageErrors, []);
  });
});
