import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import request from 'supertest';
import { z } from 'zod';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

/**
 * The bad input corpus, test/fixtures/bad-requests/*.json: each file `{description, cases}`, each case
 * `{name, method, path, headers?, json? | body? | bodyBase64?, expectStatus, expectField?, expectMessage?, setup?}`:
 * the answer must be a problem with that status, and its `errors` must name `expectField` (with a message
 * containing `expectMessage`).
 * `json` is sent serialised; `body` is sent as is (a string, or parts where `{repeat, times}` stands for a
 * long run); `bodyBase64` gives exact bytes. Bodies go as application/json unless `headers` names a
 * `content-type` (null: none). `setup` is a valid request sent first (the same ID with a different body
 * needs one); `{{run}}` anywhere becomes a token unique to this run, so setups never meet earlier runs.
 */
const CORPUS_DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'bad-requests');

const text = z.union([
  z.string(),
  z.array(z.union([z.string(), z.strictObject({ repeat: z.string(), times: z.int().positive() })])),
]);
const exchange = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().startsWith('/'),
  headers: z.record(z.string(), z.string().nullable()).optional(),
  json: z.unknown().optional(),
  body: text.optional(),
  bodyBase64: z.base64().optional(),
  expectStatus: z.int().min(200).max(599),
});
const badRequest = exchange
  .extend({
    name: z.string().min(1),
    expectStatus: z.int().min(400).max(499),
    expectField: z.string().optional(),
    expectMessage: z.string().optional(),
    setup: exchange.optional(),
  })
  .refine((c) => [c.json, c.body, c.bodyBase64].filter((b) => b !== undefined).length <= 1, {
    message: 'at most one of json, body, bodyBase64',
  });
const corpusFile = z.strictObject({ description: z.string(), cases: z.array(badRequest).min(1) });

type Exchange = z.infer<typeof exchange>;
type BadRequest = z.infer<typeof badRequest>;

function loadCorpus(run: string): { file: string; cases: BadRequest[] }[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const source = readFileSync(path.join(CORPUS_DIR, f), 'utf8').replaceAll('{{run}}', run);
      const parsed = corpusFile.safeParse(JSON.parse(source));
      if (!parsed.success) throw new Error(`${f}: ${z.prettifyError(parsed.error)}`);
      return { file: f.replace(/\.json$/, ''), cases: parsed.data.cases };
    });
}

const expand = (t: z.infer<typeof text>): string =>
  typeof t === 'string' ? t : t.map((p) => (typeof p === 'string' ? p : p.repeat.repeat(p.times))).join('');

function send(server: Server, x: Exchange) {
  const agent = request(server);
  const methods = {
    GET: agent.get.bind(agent),
    POST: agent.post.bind(agent),
    PUT: agent.put.bind(agent),
    PATCH: agent.patch.bind(agent),
    DELETE: agent.delete.bind(agent),
  };
  let req = methods[x.method](x.path);
  const headers = Object.entries(x.headers ?? {});
  const named = headers.find(([k]) => k.toLowerCase() === 'content-type');
  const hasBody = x.json !== undefined || x.body !== undefined || x.bodyBase64 !== undefined;
  const contentType = named ? named[1] : hasBody ? 'application/json' : null;
  for (const [k, v] of headers) if (k.toLowerCase() !== 'content-type' && v !== null) req = req.set(k, v);
  if (contentType !== null) req = req.set('Content-Type', contentType);
  if (x.json !== undefined) return req.send(x.json as object);
  if (x.body !== undefined || x.bodyBase64 !== undefined) {
    const bytes =
      x.bodyBase64 !== undefined
        ? Buffer.from(x.bodyBase64, 'base64')
        : Buffer.from(expand(x.body ?? ''), 'utf8');
    // Raw bytes, whatever the content type says: no serialising, no default type.
    return req.serialize((b: unknown) => b as string).send(bytes);
  }
  return req;
}

/** A GET with the path exactly as given: node:http sends it as is, where a URL parser would resolve "." and "..". */
function rawGet(
  server: Server,
  target: string,
): Promise<{ status: number; contentType: string; text: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: target, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Signs of internals leaking into an answer: stack frames, error class names, file paths, parser messages. */
const INTERNALS = [
  /\n\s+at /,
  /\bat [\w.<>$]+ \(/,
  /\b[A-Z][A-Za-z]*Error\b/,
  /\bError:/,
  /node_modules|\/(?:work|home|root|usr|tmp|src|dist)\//,
  /\.[jt]s:\d+/,
  /Unexpected (?:token|end|non-whitespace)/,
];

function assertProblem(res: request.Response, c: BadRequest): void {
  const what = `${res.status} ${res.text.slice(0, 400)}`;
  assert.ok(res.status < 500, `never a 5xx: ${what}`);
  assert.equal(res.status, c.expectStatus, what);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, what);
  const body = res.body as { status?: unknown; title?: unknown; request_id?: unknown; errors?: unknown };
  assert.equal(body.status, c.expectStatus, what);
  assert.ok(typeof body.title === 'string' && body.title !== '', `title: ${what}`);
  assert.ok(typeof body.request_id === 'string' && body.request_id !== '', `request_id: ${what}`);
  assert.equal(body.request_id, res.headers['x-request-id']);
  for (const pattern of INTERNALS) assert.doesNotMatch(res.text, pattern, `nothing internal: ${what}`);
  assert.equal(res.text.includes(process.cwd()), false, `no file path: ${what}`);
  if (c.expectField !== undefined) {
    const errors = (Array.isArray(body.errors) ? body.errors : []) as {
      field?: unknown;
      message?: unknown;
    }[];
    const named = errors.filter((e) => e.field === c.expectField);
    assert.ok(named.length > 0, `errors name ${c.expectField}: ${what}`);
    if (c.expectMessage !== undefined) {
      const wanted = c.expectMessage;
      assert.ok(
        named.some((e) => typeof e.message === 'string' && e.message.includes(wanted)),
        `${c.expectField}: "${wanted}": ${what}`,
      );
    }
  }
}

/** The workflow ID a setup submission starts. */
function setupId(x: Exchange): string {
  const json = (x.json ?? {}) as { id?: string; transaction_id?: string };
  const id = json.id ?? json.transaction_id ?? x.headers?.['Idempotency-Key'];
  assert.ok(id, 'a setup names its transaction ID');
  return id;
}

describe('bad input corpus (test/fixtures/bad-requests) against the API with a real Temporal client', function () {
  const run = randomUUID().slice(0, 8);
  const corpus = loadCorpus(run);
  const setupIds = corpus.flatMap((f) => f.cases.flatMap((c) => (c.setup ? [setupId(c.setup)] : [])));
  let client: Client;
  let server: Server;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    taskQueue = uniqueTaskQueue('bad-input'); // no worker: whatever starts stays visible on this queue
    server = testApp(client, taskQueue).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });

  after(function () {
    server?.close();
  });

  it('holds at least 200 cases, with unique names', function () {
    const names = corpus.flatMap((f) => f.cases.map((c) => `${f.file}: ${c.name}`));
    assert.ok(names.length >= 200, `${names.length} cases`);
    assert.equal(new Set(names).size, names.length);
  });

  for (const { file, cases } of corpus) {
    describe(file, function () {
      for (const c of cases) {
        it(c.name, async function () {
          if (c.setup) {
            const first = await send(server, c.setup);
            assert.equal(first.status, c.setup.expectStatus, `setup: ${first.status} ${first.text}`);
          }
          assertProblem(await send(server, c), c);
        });
      }
    });
  }

  it('GET /api/transactions/. and /.. sent raw over node:http (no client resolves the dot segment) are a 400 naming the ID', async function () {
    for (const target of ['/api/transactions/.', '/api/transactions/..', '/v1/transactions/..']) {
      const res = await rawGet(server, target);
      assert.equal(res.status, 400, `${target}: ${res.status} ${res.text}`);
      assert.match(res.contentType, /^application\/problem\+json/, target);
      const body = JSON.parse(res.text) as { instance?: string; errors?: { field: string }[] };
      assert.equal(body.instance, target, 'the server saw the path as sent');
      const field = target.startsWith('/v1') ? 'path.transaction_id' : 'path.id';
      assert.deepEqual(
        body.errors?.map((e) => e.field),
        [field],
      );
    }
  });

  // A suite of its own: mocha runs a suite's own tests before its child suites, and this one goes last.
  describe('afterwards', function () {
    it('started workflows for the setup submissions only', async function () {
      const query = `TaskQueue = "${taskQueue}"`;
      const countNow = async () => (await client.workflow.count(query)).count;
      await eventually(async () => assert.equal(await countNow(), setupIds.length), 10_000, 200);
      // Visibility may lag: a stray start would show up shortly after the setups did.
      await sleep(1_000);
      assert.equal(await countNow(), setupIds.length);
      const started: string[] = [];
      for await (const wf of client.workflow.list({ query })) started.push(wf.workflowId);
      assert.deepEqual(started.sort(), [...setupIds].sort());
    });
  });
});
