import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';

export interface TestPageOptions {
  /** Base URL of the Temporal Web UI (no trailing slash); without it the page shows no run links. */
  temporalUiUrl?: string;
  namespace: string;
  /** API_MAX_WAIT_SECONDS: the "wait for the result" toggle waits at most this (and 10 s); 0 hides it. */
  maxWaitSeconds?: number;
}

/**
 * The page lives in the source tree (tsc copies no .html): next to this file when run from its source, and at
 * the same place in the source tree when run compiled from `dist/src/api/test-page` (the Docker image copies
 * `src/api/test-page` beside `dist`).
 */
const PAGE_CANDIDATES = [
  path.resolve(__dirname, 'index.html'),
  path.resolve(__dirname, '../../../../src/api/test-page/index.html'),
];

export function testPageFile(): string {
  const found = PAGE_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`test page not found; looked in ${PAGE_CANDIDATES.join(', ')}`);
  return found;
}

const escapeAttribute = (s: string) => s.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The page with the Web UI base URL and namespace filled in, and a CSP allowing exactly its inline code. */
export function renderTestPage(template: string, options: TestPageOptions): { html: string; csp: string } {
  const html = template
    .replaceAll('{{TEMPORAL_UI_URL}}', escapeAttribute(options.temporalUiUrl ?? ''))
    .replaceAll('{{TEMPORAL_NAMESPACE}}', escapeAttribute(options.namespace))
    .replaceAll('{{MAX_WAIT_SECONDS}}', String(options.maxWaitSeconds ?? 0));
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) =>
      sha256(m[1] ?? ''),
    );
  const csp = [
    "default-src 'none'",
    `script-src ${hashes('script').join(' ')}`,
    `style-src ${hashes('style').join(' ')}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/**
 * `GET /` for a browser (an Accept header preferring text/html): the self-contained test client page, and
 * true. Any other client (curl's any-type Accept, JSON clients) gets false: the health answer is theirs. Read
 * from disk once.
 */
export function testPageResponder(options: TestPageOptions): (req: Request, res: Response) => boolean {
  const { html, csp } = renderTestPage(readFileSync(testPageFile(), 'utf8'), options);
  return (req, res) => {
    res.vary('Accept');
    if (req.accepts(['json', 'html']) !== 'html') return false;
    res
      .set({
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      })
      .type('html')
      .send(html);
    return true;
  };
}
