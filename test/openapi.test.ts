import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import type { z } from 'zod';
import { appParts } from '../src/api/http/app';
import type { RouteDoc } from '../src/api/http/route';
import { openApiPath } from '../src/api/openapi/openapi';
import { DOCS_CSP } from '../src/api/openapi/docs-routes';
import { testApp } from './support/api';
import { launchChromium } from './support/chromium';
import { testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

type JsonObject = Record<string, unknown>;
interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: JsonObject }[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonObject }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonObject }> }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes?: Record<string, JsonObject> };
  security?: Record<string, string[]>[];
}

const API_KEY = 'openapi-test-key-0123456789';
const CORPUS_DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'bad-requests');

/** The rules the document states in words only (zod refinements): the only fields where it may be looser. */
const RULES_IN_WORDS = new Set(['amount', 'currency', 'metadata', 'description']);

/** The route declarations of the app under test (set in `before`): the schemas its routes validate with. */
let routeTable: readonly RouteDoc[] = [];
const routeDoc = (operationId: string): RouteDoc => {
  const found = routeTable.find((r) => r.operationId === operationId);
  assert.ok(found, operationId);
  return found;
};

function operations(doc: Document): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item).map(([method, op]) => [method, p, op] as [string, string, Operation]),
  );
}

function resolver(doc: Document) {
  return (ref: string) => {
    const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
    const schema = name === undefined ? undefined : doc.components.schemas[name];
    if (!schema) throw new Error(`unresolved $ref ${ref}`);
    return schema;
  };
}

/** Where the document's components live in Ajv: its `$ref`s are rewritten to point here. */
const COMPONENTS_ID = 'https://txflow.test/openapi.json';

/**
 * Validates values against the document's schemas with Ajv (JSON Schema 2020-12, strict: an unknown keyword
 * fails compiling rather than being skipped, formats asserted). `closed`: every object schema listing properties
 * and saying nothing of others refuses others, so an undocumented field in an answer fails.
 */
class DocumentSchemas {
  // allowUnionTypes: zod writes the amount as `type: ["string", "number"]`, plain 2020-12 that strict mode flags.
  private readonly ajv = addFormats(new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }));
  private readonly compiled = new WeakMap<JsonObject, ValidateFunction>();

  constructor(
    doc: Document,
    private readonly closed: boolean,
  ) {
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: this.rewrite(doc.components.schemas) });
  }

  /** The paths ("body/amount") where `value` breaks `schema`, with why; empty when it conforms. */
  errors(schema: JsonObject, value: unknown): string[] {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(this.rewrite(schema));
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `body${e.instancePath}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
    );
  }

  /** A copy of `schema` with `#/components/schemas/X` pointing into COMPONENTS_ID, and closed when asked. */
  private rewrite<T>(schema: T): T {
    return JSON.parse(
      JSON.stringify(schema, (key, value: unknown) => {
        if (key === '$ref' && typeof value === 'string') {
          const name = /^#\/components\/schemas\/(.+)$/.exec(value)?.[1];
          if (name === undefined) throw new Error(`unresolved $ref ${value}`);
          return `${COMPONENTS_ID}#/$defs/${name}`;
        }
        const isSchemaObject = value !== null && typeof value === 'object' && !Array.isArray(value);
        if (this.closed && isSchemaObject && 'properties' in value && !('additionalProperties' in value))
          return { ...value, additionalProperties: false };
        return value;
      }),
    ) as T;
  }
}

const validators = new WeakMap<Document, { open: DocumentSchemas; closed: DocumentSchemas }>();
const documented = (doc: Document, schema: JsonObject, value: unknown, noExtraProperties = false) => {
  let pair = validators.get(doc);
  if (!pair) {
    pair = { open: new DocumentSchemas(doc, false), closed: new DocumentSchemas(doc, true) };
    validators.set(doc, pair);
  }
  return (noExtraProperties ? pair.closed : pair.open).errors(schema, value);
};

/** The top-level fields a zod schema refuses in `value` ([] when it accepts). */
function zodFields(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => String(i.path[0] ?? '(root)'));
}

function operation(doc: Document, operationId: string): Operation {
  const found = operations(doc).find(([, , op]) => op.operationId === operationId);
  assert.ok(found, `operation ${operationId}`);
  return found[2];
}

/** The documented body schema of a request. */
const bodySchema = (doc: Document, operationId: string): JsonObject => {
  const schema = operation(doc, operationId).requestBody?.content['application/json']?.schema;
  assert.ok(schema, `${operationId} documents a JSON body`);
  return schema;
};

const parameterSchema = (doc: Document, operationId: string, name: string): JsonObject => {
  const parameter = operation(doc, operationId).parameters?.find((p) => p.name === name);
  assert.ok(parameter, `${operationId} documents ${name}`);
  return parameter.schema;
};

/** An answer conforms to what the document says for its operation, status and media type; no field undocumented. */
function assertDocumentedAnswer(doc: Document, operationId: string, res: request.Response): void {
  const response = operation(doc, operationId).responses[String(res.status)];
  assert.ok(response, `${operationId} documents status ${res.status}: ${res.text.slice(0, 300)}`);
  const mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const media = response.content?.[mediaType];
  assert.ok(media, `${operationId} ${res.status} documents ${mediaType}`);
  if (media.schema)
    assert.deepEqual(documented(doc, media.schema, res.body, true), [], res.text.slice(0, 500));
}

describe('OpenAPI document (/openapi.json) and Swagger UI (/docs)', function () {
  let app: Express;
  let doc: Document;

  before(async function () {
    app = testApp(await testClient(), uniqueTaskQueue('openapi'));
    const res = await request(app).get('/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    doc = res.body as Document;
    routeTable = appParts(app).routes.declarations;
  });

  describe('the document', function () {
    it('is structurally a valid OpenAPI 3.1 document', function () {
      assert.match(doc.openapi, /^3\.1\.\d+$/);
      assert.equal(doc.info.title, 'txflow');
      assert.equal(doc.info.version, 'test');
      const ids = new Set<string>();
      for (const [method, p, op] of operations(doc)) {
        const where = `${method.toUpperCase()} ${p}`;
        assert.ok(
          ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method),
          where,
        );
        assert.match(p, /^\/[^:]*$/, `${where}: path templates use {name}`);
        assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        const pathParams = (op.parameters ?? []).filter((x) => x.in === 'path');
        assert.deepEqual(pathParams.map((x) => x.name).sort(), templated, `${where}: path parameters`);
        for (const x of pathParams) assert.equal(x.required, true, `${where}: ${x.name} required`);
        for (const x of op.parameters ?? []) assert.ok(['path', 'query', 'header', 'cookie'].includes(x.in));
        assert.ok(Object.keys(op.responses).length > 0, `${where}: responses`);
        for (const [status, r] of Object.entries(op.responses)) {
          assert.match(status, /^[1-5]\d\d$/, `${where}: status ${status}`);
          assert.ok(
            typeof r.description === 'string' && r.description !== '',
            `${where} ${status}: description`,
          );
        }
      }
      for (const [name, schema] of Object.entries(doc.components.schemas)) {
        assert.match(name, /^[A-Za-z0-9._-]+$/, name);
        assert.equal(schema.$schema, undefined, `${name}: no $schema`);
        assert.equal(schema.$id, undefined, `${name}: no $id`);
      }
      // Every $ref points at a schema that exists.
      const refs: string[] = [];
      JSON.stringify(doc, (key, value: unknown) => {
        if (key === '$ref') refs.push(value as string);
        return value;
      });
      assert.ok(refs.length > 10);
      for (const ref of refs) assert.ok(resolver(doc)(ref), ref);
      // Every schema compiles in Ajv's strict mode: none holds a keyword JSON Schema 2020-12 does not know.
      const schemas = [
        ...Object.keys(doc.components.schemas).map((name) => ({ $ref: `#/components/schemas/${name}` })),
        ...operations(doc).flatMap(([, , op]) => (op.parameters ?? []).map((x) => x.schema)),
      ];
      for (const schema of schemas) {
        assert.doesNotThrow(() => documented(doc, schema, null), JSON.stringify(schema));
        assert.doesNotThrow(() => documented(doc, schema, null, true), JSON.stringify(schema));
      }
      assert.equal(doc.security, undefined, 'no API keys configured: no security requirement');
    });

    it("documents exactly the app's routes, both dialects, health, metrics and itself", async function () {
      const { routes } = appParts(app);
      const served = new Set(routes.routes().map((r) => `${r.method} ${openApiPath(r.path)}`));
      const described = new Set(operations(doc).map(([m, p]) => `${m.toUpperCase()} ${p}`));
      assert.deepEqual([...described].sort(), [...served].sort());
      for (const expected of [
        'POST /api/transactions',
        'GET /api/transactions/{id}',
        'POST /v1/webhooks/transactions',
        'GET /v1/transactions/{transaction_id}',
        'GET /api/health',
        'GET /',
        'GET /metrics',
        'GET /openapi.json',
        'GET /docs',
      ]) {
        assert.ok(described.has(expected), expected);
      }
      // What Express itself holds is the same set: no route is registered apart from the declarations.
      // (The declared routes sit in one router mounted on the app: its layers are read too.)
      type RouteLayer = {
        route?: { path: string; methods: Record<string, boolean> };
        name?: string;
        handle?: { stack?: RouteLayer[] };
      };
      const routeLayers = (layers: RouteLayer[]): RouteLayer[] =>
        layers.flatMap((l) =>
          l.route ? [l] : l.name === 'router' ? routeLayers(l.handle?.stack ?? []) : [],
        );
      const stack = routeLayers((app.router as unknown as { stack: RouteLayer[] }).stack);
      const registered = stack.flatMap(({ route }) =>
        Object.keys(route?.methods ?? {})
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} ${openApiPath(route?.path ?? '')}`),
      );
      assert.deepEqual(registered.sort(), [...served].sort());
    });

    it('describes each error as application/problem+json, and the submissions with their 202, 200, 201 and 409', function () {
      const submit = operation(doc, 'submitTransaction');
      assert.deepEqual(
        Object.keys(submit.responses).sort(),
        // 201: a new transaction that ended within a `Prefer: wait`.
        ['200', '201', '202', '400', '401', '409', '413', '415', '429', '503'].sort(),
      );
      for (const [method, p, op] of operations(doc)) {
        for (const [status, r] of Object.entries(op.responses)) {
          if (Number(status) >= 400 && !(p.endsWith('health') || p === '/')) {
            assert.deepEqual(
              Object.keys(r.content ?? {}),
              ['application/problem+json'],
              `${method} ${p} ${status}`,
            );
          }
        }
      }
      assert.deepEqual(bodySchema(doc, 'submitTransaction'), { $ref: '#/components/schemas/ApiSubmission' });
      assert.deepEqual(bodySchema(doc, 'deliverWebhook'), { $ref: '#/components/schemas/WebhookSubmission' });
      assert.deepEqual(parameterSchema(doc, 'getTransaction', 'id'), {
        $ref: '#/components/schemas/TransactionId',
      });
    });

    it('declares the API keys when they are configured, with health and the docs open', async function () {
      const keyed = testApp(await testClient(), uniqueTaskQueue('openapi-keys'), undefined, {
        apiKeys: [API_KEY],
      });
      const res = await request(keyed).get('/openapi.json');
      assert.equal(res.status, 200, 'the document needs no key');
      const keyedDoc = res.body as Document;
      assert.deepEqual(Object.keys(keyedDoc.components.securitySchemes ?? {}).sort(), ['apiKey', 'bearer']);
      assert.deepEqual(keyedDoc.security, [{ bearer: [] }, { apiKey: [] }]);
      assert.deepEqual(operation(keyedDoc, 'getHealth').security, []);
      assert.deepEqual(operation(keyedDoc, 'getDocs').security, []);
      assert.equal(
        operation(keyedDoc, 'submitTransaction').security,
        undefined,
        'the global requirement applies',
      );
      assert.equal(operation(keyedDoc, 'getMetrics').security, undefined, '/metrics needs a key');
    });

    it('leaves out /metrics and the docs when they are turned off', async function () {
      const off = testApp(await testClient(), uniqueTaskQueue('openapi-off'), undefined, {
        metricsEnabled: false,
        docsEnabled: false,
      });
      assert.equal((await request(off).get('/openapi.json')).status, 404);
      assert.equal((await request(off).get('/docs')).status, 404);
      assert.equal((await request(off).get('/metrics')).status, 404);
      const served = appParts(off)
        .routes.routes()
        .map((r) => r.path);
      assert.ok(!served.includes('/metrics') && !served.includes('/docs'));
    });
  });

  describe('the documented schemas and the routes agree', function () {
    it('a known-good request passes the documented schema, the route schema and the API, and so do its answers', async function () {
      const id = `openapi-${randomUUID()}`;
      const good = {
        id,
        amount: '150.50',
        currency: 'INR',
        description: 'invoice 42',
        timestamp: '2026-11-23T10:00:00Z',
        metadata: { order: 'A-17', nested: { lines: [1, 2] } },
        source_account: 'acc_a',
        destination_account: 'acc_b',
      };
      assert.deepEqual(documented(doc, bodySchema(doc, 'submitTransaction'), good), []);
      assert.deepEqual(zodFields(routeDoc('submitTransaction').body!.schema, good), []);
      assert.deepEqual(documented(doc, parameterSchema(doc, 'submitTransaction', 'Idempotency-Key'), id), []);
      const accepted = await request(app).post('/api/transactions').set('Idempotency-Key', id).send(good);
      assert.equal(accepted.status, 202, accepted.text);
      assertDocumentedAnswer(doc, 'submitTransaction', accepted);
      assertDocumentedAnswer(
        doc,
        'submitTransaction',
        await request(app).post('/api/transactions').send(good),
      );
      assertDocumentedAnswer(
        doc,
        'submitTransaction',
        await request(app)
          .post('/api/transactions')
          .send({ ...good, amount: '1.00' }),
      );
      assert.deepEqual(documented(doc, parameterSchema(doc, 'getTransaction', 'id'), id), []);
      assertDocumentedAnswer(doc, 'getTransaction', await request(app).get(`/api/transactions/${id}`));
      assertDocumentedAnswer(doc, 'getTransaction', await request(app).get('/api/transactions/no-such-tx'));

      const hook = {
        transaction_id: `openapi-v1-${randomUUID()}`,
        source_account: 'acc_a',
        destination_account: 'acc_b',
        amount: 99.9,
        currency: 'USD',
      };
      assert.deepEqual(documented(doc, bodySchema(doc, 'deliverWebhook'), hook), []);
      assert.deepEqual(zodFields(routeDoc('deliverWebhook').body!.schema, hook), []);
      const delivered = await request(app).post('/v1/webhooks/transactions').send(hook);
      assert.equal(delivered.status, 202, delivered.text);
      assertDocumentedAnswer(doc, 'deliverWebhook', delivered);
      assertDocumentedAnswer(
        doc,
        'getWebhookTransaction',
        await request(app).get(`/v1/transactions/${hook.transaction_id}`),
      );
      assertDocumentedAnswer(
        doc,
        'deliverWebhook',
        await request(app).post('/v1/webhooks/transactions').send({}),
      );
    });

    it('the batch: a good one passes the documented schema, an item without id does not; its answers are as documented', async function () {
      const item = (overrides: Record<string, unknown> = {}) => ({
        id: `openapi-batch-${randomUUID()}`,
        amount: '150.50',
        currency: 'INR',
        ...overrides,
      });
      const good = [item(), item({ metadata: { order: 'A-17' } })];
      const batchBody = bodySchema(doc, 'submitTransactionBatch');
      assert.deepEqual(documented(doc, batchBody, { transactions: good }), []);
      const noId = { transactions: [{ amount: '1.00', currency: 'EUR' }] };
      assert.notDeepEqual(documented(doc, batchBody, noId), [], "the document requires an item's id");
      const mixed = [...good, good[0], item({ currency: 'JPY', amount: '1.5' }), noId.transactions[0]];
      const answered = await request(app).post('/api/transactions/batch').send({ transactions: mixed });
      assert.equal(answered.status, 200, answered.text);
      assert.deepEqual(
        (answered.body.results as { status: string }[]).map((r) => r.status),
        ['accepted', 'accepted', 'duplicate', 'invalid', 'invalid'],
      );
      assertDocumentedAnswer(doc, 'submitTransactionBatch', answered);
      for (const bad of [{}, { transactions: [] }, noId.transactions]) {
        assertDocumentedAnswer(
          doc,
          'submitTransactionBatch',
          await request(app).post('/api/transactions/batch').send(bad),
        );
      }
    });

    it('the listing: a documented query is accepted by the route, and its page is as documented', async function () {
      const query = { status: 'pending', currency: 'INR', from: '2026-01-01', limit: '5' };
      for (const [name, value] of Object.entries(query)) {
        assert.deepEqual(documented(doc, parameterSchema(doc, 'listTransactions', name), value), [], name);
      }
      assert.deepEqual(zodFields(routeDoc('listTransactions').query!, query), []);
      const page = await request(app).get('/api/transactions').query(query);
      assert.equal(page.status, 200, page.text);
      assertDocumentedAnswer(doc, 'listTransactions', page);
      // A value the document already refuses is refused by the route too.
      assert.notDeepEqual(documented(doc, parameterSchema(doc, 'listTransactions', 'limit'), '0'), []);
      const refused = await request(app).get('/api/transactions').query({ limit: '0' });
      assertDocumentedAnswer(doc, 'listTransactions', refused);
      assert.equal(refused.status, 400);
    });

    it('health, the root and the problem answers are as documented', async function () {
      assertDocumentedAnswer(doc, 'getHealth', await request(app).get('/api/health'));
      assertDocumentedAnswer(doc, 'getRoot', await request(app).get('/').set('Accept', 'application/json'));
      assertDocumentedAnswer(doc, 'getRoot', await request(app).get('/').set('Accept', 'text/html'));
      assertDocumentedAnswer(
        doc,
        'retryTransaction',
        await request(app).post('/api/transactions/no-such-tx/retry'),
      );
    });

    it('on the bad-request corpus: never stricter than the route, and looser only where a rule is in words', function () {
      const routes = {
        '/api/transactions': 'submitTransaction',
        '/v1/webhooks/transactions': 'deliverWebhook',
      } as const;
      let compared = 0;
      let refusedByDocument = 0;
      for (const file of readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json'))) {
        const corpus = JSON.parse(readFileSync(path.join(CORPUS_DIR, file), 'utf8')) as {
          cases: CorpusCase[];
        };
        for (const c of corpus.cases) {
          const where = `${file}: ${c.name}`;
          if (c.method === 'GET') {
            // Path IDs: the document's TransactionId and the route's params schema, both a plain pattern.
            const [, dialect, segment] = /^\/(api|v1)\/transactions\/([^/]+)$/.exec(c.path) ?? [];
            if (segment === undefined) continue;
            let id: string;
            try {
              id = decodeURIComponent(segment);
            } catch {
              continue; // refused as a malformed URL before any schema
            }
            const opId = dialect === 'api' ? 'getTransaction' : 'getWebhookTransaction';
            const param = dialect === 'api' ? 'id' : 'transaction_id';
            const byDocument = documented(doc, parameterSchema(doc, opId, param), id).length === 0;
            const byRoute = zodFields(routeDoc(opId).params!, { [param]: id }).length === 0;
            assert.equal(byDocument, byRoute, where);
            compared++;
            continue;
          }
          const opId = routes[c.path as keyof typeof routes];
          const contentType = Object.entries(c.headers ?? {}).find(
            ([k]) => k.toLowerCase() === 'content-type',
          );
          if (c.method !== 'POST' || !opId || contentType) continue;
          const key = Object.entries(c.headers ?? {}).find(
            ([k]) => k.toLowerCase() === 'idempotency-key',
          )?.[1];
          if (typeof key === 'string') {
            const byDocument =
              documented(doc, parameterSchema(doc, opId, 'Idempotency-Key'), key).length === 0;
            assert.equal(
              byDocument,
              zodFields(routeDoc(opId).headers!, { 'Idempotency-Key': key }).length === 0,
            );
          }
          const body = parsedBody(c);
          if (body === undefined) continue;
          const documentErrors = documented(doc, bodySchema(doc, opId), body.value);
          const routeErrors = zodFields(routeDoc(opId).body!.schema, body.value);
          if (routeErrors.length === 0)
            assert.deepEqual(documentErrors, [], `${where}: the route accepts it`);
          if (documentErrors.length > 0) refusedByDocument++;
          else if (routeErrors.length > 0) {
            for (const field of routeErrors) assert.ok(RULES_IN_WORDS.has(field), `${where}: ${field}`);
          }
          compared++;
        }
      }
      assert.ok(compared > 250, `compared ${compared}`);
      assert.ok(refusedByDocument > 80, `refused by the document ${refusedByDocument}`);
    });

    it('property: for bodies around a valid one, both dialects, the document is never stricter than the route', function () {
      const value = fc.oneof(
        fc.constantFrom('150.50', '1', 150.5, 10, 0.1, '0', '-1', '1.234', 1e21, 'EUR', 'JPY', 'eur', 'XYZ'),
        fc.constantFrom('acc_a', 'a b', '', 'tx-1', 'x'.repeat(129), '2026-11-23T10:00:00Z', '2026-13-01'),
        fc.constantFrom(null, true, [], {}, { order: 'A-17' }, { __proto__: 1 }),
        fc.string(),
        fc.double(),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
      );
      const bases = {
        submitTransaction: {
          id: 'tx-1',
          amount: '150.50',
          currency: 'INR',
          description: 'invoice 42',
          source_account: 'acc_a',
          destination_account: 'acc_b',
        },
        deliverWebhook: {
          transaction_id: 'tx-1',
          amount: 99.9,
          currency: 'USD',
          source_account: 'acc_a',
          destination_account: 'acc_b',
        },
      };
      const fields = [
        ...new Set([...Object.keys(bases.submitTransaction), 'timestamp', 'metadata', 'extra']),
      ];
      for (const [opId, base] of Object.entries(bases)) {
        const schema = bodySchema(doc, opId);
        const routeSchema = routeDoc(opId).body!.schema;
        let accepted = 0;
        let refused = 0;
        const body = fc
          .record({
            set: fc.dictionary(fc.constantFrom(...fields, ...Object.keys(base)), value, { maxKeys: 2 }),
            drop: fc.subarray(Object.keys(base), { maxLength: 1 }),
          })
          .map(({ set, drop }) => {
            const b: Record<string, unknown> = { ...base, ...set };
            for (const f of drop) delete b[f];
            return b;
          });
        fc.assert(
          fc.property(body, (b) => {
            const documentErrors = documented(doc, schema, b);
            const routeErrors = zodFields(routeSchema, b);
            if (routeErrors.length === 0) {
              accepted++;
              return documentErrors.length === 0;
            }
            refused++;
            return documentErrors.length > 0 || routeErrors.every((f) => RULES_IN_WORDS.has(f));
          }),
          { numRuns: 3_000 },
        );
        assert.ok(accepted > 300 && refused > 300, `${opId}: ${accepted} accepted, ${refused} refused`);
      }
    });
  });

  describe('/docs', function () {
    it('serves the Swagger UI page with a CSP allowing no inline script, and every asset it loads', async function () {
      const page = await request(app).get('/docs');
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'] ?? '', /^text\/html/);
      assert.equal(page.headers['content-security-policy'], DOCS_CSP);
      assert.doesNotMatch(DOCS_CSP, /unsafe/);
      assert.equal(/<script>|<script [^>]*>[^<]/.test(page.text), false, 'no inline script');
      const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      assert.ok(assets.length >= 4, assets.join(' '));
      const expected: [RegExp, RegExp][] = [
        [/\.js$/, /^(text|application)\/javascript/],
        [/\.css$/, /^text\/css/],
        [/\.png$/, /^image\/png/],
      ];
      for (const asset of assets) {
        assert.match(asset, /^\/docs\//, 'served here, no CDN');
        const res = await request(app).get(asset);
        assert.equal(res.status, 200, asset);
        const type = expected.find(([ext]) => ext.test(asset))?.[1];
        assert.ok(type, asset);
        assert.match(res.headers['content-type'] ?? '', type, asset);
        assert.ok(
          Number(res.headers['content-length'] ?? (res.body as Buffer).length) > 0 || res.text.length > 0,
        );
      }
      const initializer = await request(app).get('/docs/swagger-initializer.js');
      assert.match(initializer.text, /url: '\/openapi\.json'/);
      const unknown = await request(app).get('/docs/package.json');
      assert.equal(unknown.status, 404);
      assert.match(unknown.headers['content-type'] ?? '', /application\/problem\+json/);
    });

    it('stays open with API keys set, while /metrics needs a key', async function () {
      const keyed = testApp(await testClient(), uniqueTaskQueue('docs-keys'), undefined, {
        apiKeys: [API_KEY],
        rateLimitPerMinute: 1,
      });
      for (const p of [
        '/docs',
        '/docs/swagger-ui-bundle.js',
        '/docs/swagger-initializer.js',
        '/openapi.json',
      ]) {
        assert.equal((await request(keyed).get(p)).status, 200, `${p}, and not counted by the rate limit`);
      }
      assert.equal((await request(keyed).get('/metrics')).status, 401);
    });

    it('renders every documented operation in headless Chromium, with no CSP violation or script error', async function () {
      this.timeout(120_000);
      const browser = await launchChromium();
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (err) => problems.push(err.message));
        page.on('console', (msg) => {
          if (msg.type() === 'error') problems.push(msg.text());
        });
        page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
        await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/docs`);
        await page.waitForSelector('.opblock', { timeout: 60_000 });
        assert.equal(await page.locator('.opblock').count(), operations(doc).length);
        assert.equal((await page.locator('.info .title').innerText()).split('\n')[0]?.trim(), 'txflow');
        // Open an operation and its schemas: more of Swagger UI's code and styles run.
        await page.locator('.opblock-summary').first().click();
        await page.waitForSelector('.opblock-body');
        assert.deepEqual(problems, []);
      } finally {
        await browser.close();
        server.closeAllConnections();
        server.close();
      }
    });
  });
});

/** A case of test/fixtures/bad-requests (see test/bad-input.test.ts), the parts compared here. */
interface CorpusCase {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string | null>;
  json?: unknown;
  body?: unknown;
}

/** The JSON a corpus case sends, when it is JSON at all. */
function parsedBody(c: CorpusCase): { value: unknown } | undefined {
  if (c.json !== undefined) return { value: c.json };
  if (typeof c.body !== 'string') return undefined;
  try {
    return { value: JSON.parse(c.body) as unknown };
  } catch {
    return undefined;
  }
}
