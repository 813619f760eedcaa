import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import type { Express } from 'express';
import request from 'supertest';
import { renderTestPage, testPageFile } from '../src/api/test-page/test-page';
import { testApp } from './support/api';
import { fastPolicy, testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

const UI = 'http://ui.example.test:8233';
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

const inline = (html: string, tag: string) =>
  [...html.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

describe('test page (GET / for a browser)', function () {
  let app: Express;

  before(async function () {
    const client = await testClient();
    app = testApp(client, uniqueTaskQueue('test-page'), fastPolicy(), {
      temporalUiUrl: UI,
      namespace: 'default',
    });
  });

  it('serves the HTML page to an Accept that prefers text/html, with the form and the Web UI base', async function () {
    const res = await request(app).get('/').set('Accept', BROWSER_ACCEPT);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/html; charset=utf-8/);
    assert.match(res.headers.vary ?? '', /Accept/);
    const html = res.text;
    for (const testid of [
      'tx-form',
      'amount',
      'currency',
      'source-account',
      'destination-account',
      'submit',
    ]) {
      assert.ok(html.includes(`data-testid="${testid}"`), testid);
    }
    for (const testid of ['burst', 'dialect-api', 'dialect-v1', 'tx-rows', 'form-errors', 'health-status']) {
      assert.ok(html.includes(`data-testid="${testid}"`), testid);
    }
    // The callback URL field and the callback log view (GET /api/transactions/{id}/events).
    for (const testid of [
      'callback-url',
      'callback-url-error',
      'events',
      'events-id',
      'events-show',
      'events-table',
      'events-rows',
      'events-note',
    ]) {
      assert.ok(html.includes(`data-testid="${testid}"`), testid);
    }
    assert.match(html, /<input\b[^>]*\bname="callback_url"[^>]*>/, 'the form sends it as callback_url');
    assert.ok(html.includes("'body.callback_url': 'callback-url'"), 'its 400 is shown next to it');
    assert.ok(html.includes('/events`'), 'the log view reads the events route');
    assert.ok(html.includes(`data-temporal-ui-url="${UI}"`));
    assert.ok(html.includes('data-namespace="default"'));
    assert.equal(html.includes('{{'), false, 'every placeholder is filled');

    const plain = await request(app).get('/').set('Accept', 'text/html');
    assert.equal(plain.status, 200);
    assert.match(plain.headers['content-type'] ?? '', /^text\/html/);
  });

  it('keeps answering the JSON health to JSON clients, curl (*/*) and no Accept at all', async function () {
    for (const accept of ['application/json', '*/*', undefined]) {
      const req = request(app).get('/');
      const res = await (accept === undefined ? req.unset('Accept') : req.set('Accept', accept));
      assert.equal(res.status, 200, `${accept}: ${res.text.slice(0, 200)}`);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/, String(accept));
      assert.equal(res.body.status, 'healthy');
      assert.equal(res.headers['content-security-policy'], undefined);
    }
  });

  it('has a strict CSP: hashes of exactly its inline script and style, no unsafe-eval or unsafe-inline', async function () {
    const res = await request(app).get('/').set('Accept', BROWSER_ACCEPT);
    const csp = res.headers['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(csp.includes('unsafe-eval'), false);
    assert.equal(csp.includes('unsafe-inline'), false);
    const directive = (name: string) => csp.split(';').find((d) => d.trim().startsWith(`${name} `)) ?? '';
    const scripts = inline(res.text, 'script');
    const styles = inline(res.text, 'style');
    assert.equal(scripts.length, 1);
    assert.equal(styles.length, 1);
    for (const s of scripts) assert.ok(directive('script-src').includes(sha256(s)), 'script hash');
    for (const s of styles) assert.ok(directive('style-src').includes(sha256(s)), 'style hash');
    assert.equal(/\sstyle=/.test(res.text), false, 'no style attributes (the CSP would block them)');
    assert.equal(/\son[a-z]+=/.test(res.text), false, 'no inline event handlers');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it('loads nothing from elsewhere: the only http(s) URLs are the Web UI base; the script parses', async function () {
    const res = await request(app).get('/').set('Accept', BROWSER_ACCEPT);
    const urls = res.text.match(/https?:\/\/[^\s"'<>`)]+/g) ?? [];
    assert.deepEqual([...new Set(urls)], [UI]);
    assert.equal(/<(script|link|img|iframe)\b[^>]*\s(src|href)="(?!data:)/.test(res.text), false);
    for (const s of inline(res.text, 'script')) new Script(s, { filename: 'test-page.js' });
  });

  it('escapes the injected values and works without a Web UI', async function () {
    const template =
      '<body data-temporal-ui-url="{{TEMPORAL_UI_URL}}" data-namespace="{{TEMPORAL_NAMESPACE}}">';
    const { html } = renderTestPage(template, { namespace: 'a"b<c&' });
    assert.equal(html, '<body data-temporal-ui-url="" data-namespace="a&#34;b&#60;c&#38;">');

    const client = await testClient();
    const noUi = testApp(client, uniqueTaskQueue('test-page'));
    const res = await request(noUi).get('/').set('Accept', 'text/html');
    assert.equal(res.status, 200);
    assert.ok(res.text.includes('data-temporal-ui-url=""'));
  });

  it('reads the page from the source tree, also when running compiled from dist', function () {
    assert.match(testPageFile(), /[/\\]src[/\\]api[/\\]test-page[/\\]index\.html$/);
  });
});
