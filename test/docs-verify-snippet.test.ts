// The receiver-side verification the docs tell clients to copy: run exactly as written, against what the
// worker's signer produces. A snippet that drifts from the signature format fails here, not at a client's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signatureHeader, verifySignature } from '../src/callbacks/signature';

const ROOT = path.resolve(__dirname, '..', '..');
const SECRET = 'docs-snippet-secret-0123456789';
const TOLERANCE_SEC = 300;

type Verify = (secret: string, header: string | undefined, rawBody: string, toleranceSec?: number) => boolean;

/** The first ```js block after `heading` in the file, compiled as written; its `verify` function. */
function snippetVerify(file: string, heading: RegExp): { code: string; verify: Verify } {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const from = text.search(heading);
  assert.ok(from >= 0, `${file}: no ${heading}`);
  const block = /```js\n([\s\S]*?)```/.exec(text.slice(from));
  assert.ok(block?.[1], `${file}: no js block after ${heading}`);
  const code = block[1];
  // CommonJS as a receiver would paste it: `require` is the only thing it gets from outside.
  const verify = new Function('require', `${code}\nreturn verify;`)(require) as Verify;
  assert.equal(typeof verify, 'function');
  return { code, verify };
}

const SNIPPETS: [string, RegExp][] = [
  ['README.md', /^### Callbacks$/m],
  ['docs/api.md', /^\*\*Verifying it\*\*/m],
];

describe('the docs’ receiver verification snippet, run as written', function () {
  const body = JSON.stringify({
    id: 'evt_0193a6b2-7c1d-7e0f-8a9b-0c1d2e3f4a5b_completed',
    type: 'transaction.completed',
    created_at: '2026-11-23T10:00:00.410Z',
    data: { transactionId: 'tx-1002', status: 'completed', amount: '10.00', currency: 'EUR' },
  });
  const now = () => Math.floor(Date.now() / 1000);

  for (const [file, heading] of SNIPPETS) {
    describe(file, function () {
      const { verify } = snippetVerify(file, heading);

      it('accepts a fresh event signed by the worker’s signer', function () {
        assert.equal(verify(SECRET, signatureHeader(SECRET, body), body), true);
        // A signature at the edge of the tolerance is still fresh.
        assert.equal(verify(SECRET, signatureHeader(SECRET, body, now() - TOLERANCE_SEC + 5), body), true);
      });

      it('refuses a tampered body, another secret, and a missing or malformed header', function () {
        const header = signatureHeader(SECRET, body);
        assert.equal(verify(SECRET, header, body.replace('"10.00"', '"99.00"')), false);
        assert.equal(verify('another-secret-0123456789', header, body), false);
        assert.equal(verify(SECRET, undefined, body), false);
        assert.equal(verify(SECRET, header.replace(/v1=[0-9a-f]+/, 'v1=00'), body), false);
        assert.equal(verify(SECRET, header.replace(/^t=\d+/, 't=soon'), body), false);
      });

      it('refuses a signature older (or further ahead) than the tolerance: a replay', function () {
        const old = signatureHeader(SECRET, body, now() - TOLERANCE_SEC - 5);
        assert.equal(verify(SECRET, old, body), false);
        assert.equal(verify(SECRET, old, body, TOLERANCE_SEC + 60), true, 'only its age refuses it');
        assert.equal(verify(SECRET, signatureHeader(SECRET, body, now() + TOLERANCE_SEC + 5), body), false);
      });

      it('decides as the product’s own verifySignature does', function () {
        for (const t of [now(), now() - 100, now() - 400]) {
          const header = signatureHeader(SECRET, body, t);
          for (const candidate of [body, `${body} `]) {
            assert.equal(verify(SECRET, header, candidate), verifySignature(SECRET, header, candidate));
          }
        }
      });
    });
  }
});
