// txflow on the local production topology (`npm run cluster`, started by the same code): Temporal 1.29.1 on
// PostgreSQL as separate frontend/history/matching/worker processes, two workers, two API instances and the
// mock, all real processes. The Go binaries are built on first use (minutes: progress goes to stderr).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pino from 'pino';
import { request } from 'undici';
import { FAST_API_ENV, FAST_WORKER_ENV } from '../tools/chaos/cluster';
import { Load, until } from '../tools/chaos/load';
import { Verifier } from '../tools/chaos/verify';
import { clusterSettings, type ClusterSettings } from '../tools/cluster/cluster-config';
import { TEMPORAL_SERVICES, portLayout } from '../tools/cluster/ports';
import { migrateDatabases, serverModuleDir, dropDatabases } from '../tools/cluster/schema';
import { startCluster, type RunningCluster } from '../tools/cluster/start-cluster';
import { obtainClusterTools, type ClusterTools } from '../tools/cluster/tools';
import type { FaultPatch } from '../tools/mock/config';
import type { MockStats, StoredTransaction } from '../tools/mock/store';
import { obtainGoTool } from '../tools/stack/go-tool';
import { isPortFree } from '../tools/shared/ports';
import { progressReporter } from '../tools/shared/progress';
import { obtainTemporalCli } from '../tools/stack/temporal-cli';
import { eventually } from './support/eventually';

const exec = promisify(execFile);
const log = (line: string) => process.stderr.write(`      [cluster] ${line}\n`);

/** A block of 21 Temporal ports, a UI, a mock and two API ports, all free now. */
async function freePortBlock(): Promise<{ base: number; ui: number; mock: number; api: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below 32767: Temporal stores membership ports as a PostgreSQL smallint.
    const base = 20_000 + Math.floor(Math.random() * 1_200) * 10;
    const ports = [
      ...Array.from({ length: 21 }, (_, i) => base + i),
      base + 30,
      base + 31,
      base + 32,
      base + 33,
    ];
    if ((await Promise.all(ports.map((p) => isPortFree(p)))).every(Boolean)) {
      return { base, ui: base + 30, mock: base + 31, api: base + 32 };
    }
  }
  throw new Error('no free port block found');
}

/** Rows of a query through psql (on PATH wherever PostgreSQL is), tab-separated. */
async function psql(settings: ClusterSettings, database: string, sql: string): Promise<string[]> {
  const pg = settings.postgres;
  const { stdout } = await exec(
    'psql',
    [
      '-h',
      pg.host,
      '-p',
      String(pg.port),
      '-U',
      pg.user,
      '-d',
      database,
      '-AtX',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      sql,
    ],
    { env: { ...process.env, PGPASSWORD: pg.password ?? '' } },
  );
  return stdout.split('\n').filter((line) => line !== '');
}

/** What a schema setup could change: the tables, the schema version rows and the update log. */
async function schemaSnapshot(settings: ClusterSettings): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const db of [settings.postgres.databases.temporal, settings.postgres.databases.visibility]) {
    snapshot[`${db} tables`] = await psql(
      settings,
      db,
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    snapshot[`${db} schema_version`] = await psql(
      settings,
      db,
      'select version_partition, db_name, creation_time, curr_version, min_compatible_version from schema_version order by 1',
    );
    snapshot[`${db} schema_update_history`] = await psql(
      settings,
      db,
      'select * from schema_update_history order by year, month, update_time',
    );
  }
  return snapshot;
}

/** Newest versioned folder (v1.18) of the module's schema for one store. */
async function newestSchemaVersion(moduleDir: string, kind: string): Promise<string> {
  const dirs = await readdir(join(moduleDir, 'schema', 'postgresql', 'v12', kind, 'versioned'));
  const versions = dirs
    .map((d) => d.replace(/^v/, ''))
    .sort((a, b) => {
      const [a1 = 0, a2 = 0] = a.split('.').map(Number);
      const [b1 = 0, b2 = 0] = b.split('.').map(Number);
      return a1 - b1 || a2 - b2;
    });
  return versions[versions.length - 1] ?? '';
}

interface PostResult {
  status: number;
  retryAfter: string | undefined;
}

async function post(api: string, body: object): Promise<PostResult> {
  const res = await request(`${api}/api/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  await res.body.dump();
  const retryAfter = res.headers['retry-after'];
  return { status: res.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined };
}

async function getJson<T>(
  url: string,
  init: { method?: 'GET' | 'PUT'; body?: object } = {},
): Promise<{ status: number; body: T }> {
  const res = await request(url, {
    method: init.method ?? 'GET',
    headers: init.body ? { 'content-type': 'application/json' } : {},
    body: init.body ? JSON.stringify(init.body) : undefined,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

/** The cluster as tools/chaos/verify.ts reads it: an API, the mock's rows and counters. */
function verifierView(cluster: RunningCluster) {
  const mock = cluster.urls.posting;
  return {
    apiUrl: cluster.urls.apis[0] ?? '',
    mockRows: async () => (await getJson<{ data: StoredTransaction[] }>(`${mock}/transactions`)).body.data,
    mockStats: async () => (await getJson<MockStats>(`${mock}/admin/stats`)).body,
  };
}

async function setFaults(cluster: RunningCluster, patch: FaultPatch): Promise<void> {
  const { status } = await getJson(`${cluster.urls.posting}/admin/faults`, { method: 'PUT', body: patch });
  assert.equal(status, 200);
}

/** Empties the mock, so a test's duplicate count is its own. */
async function cleanMock(cluster: RunningCluster): Promise<void> {
  const res = await request(`${cluster.urls.posting}/cleanup`, { method: 'POST', headersTimeout: 30_000 });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
}

/**
 * The chaos suite's fast timeouts, but with a wider gap between the worker's HTTP timeout and the activity
 * attempt timeout: on a loaded 2-core machine (four Temporal processes, PostgreSQL, two workers, two APIs and
 * other work) a starved worker can send the POST of an attempt that Temporal has already timed out, after
 * the next attempt's GET found nothing: stored twice (seen here once with 2 s attempts, 2 of 150).
 */
const API_ENV = {
  ...FAST_API_ENV,
  // txflow's default attempt timeout, 10 s: a margin of 8.5 s over the worker's 1.5 s HTTP timeout.
  CHECK_RETRY_ATTEMPT_TIMEOUT_MS: '10000',
  POST_RETRY_ATTEMPT_TIMEOUT_MS: '10000',
};

const NO_FAULTS: FaultPatch = {
  preWriteFailureRate: 0,
  postWriteFailureRate: 0,
  getFailureRate: 0,
  postLatencyMs: { min: 0, max: 0 },
};

describe('cluster settings and tools', () => {
  it('validates env like every txflow process, naming the variable', () => {
    assert.throws(
      () => clusterSettings({ CLUSTER_DB_PREFIX: 'temporal' }),
      /CLUSTER_DB_PREFIX="temporal": must start with "txflow"/,
    );
    assert.throws(
      () => clusterSettings({ CLUSTER_HISTORY_SHARDS: '0' }),
      /CLUSTER_HISTORY_SHARDS="0": must be at least 1/,
    );
    assert.throws(() => clusterSettings({ CLUSTER_SERVER_MODE: 'all' }), /CLUSTER_SERVER_MODE/);
    assert.throws(
      () => clusterSettings({ CLUSTER_PORT_BASE: '40000' }),
      /CLUSTER_PORT_BASE="40000": must be at most 32747/,
    );
    const s = clusterSettings({ CLUSTER_APIS: '3', CLUSTER_API_PORT: '4000' });
    assert.deepEqual(s.apiPorts, [4000, 4001, 4002]);
    assert.deepEqual(s.postgres.databases, {
      temporal: 'txflow_temporal',
      visibility: 'txflow_temporal_visibility',
    });
    assert.equal(s.historyShards, 4);
    assert.equal(s.workers, 2);
  });

  it('lays out the Temporal ports as one block without overlaps, away from a dev server on 7233', () => {
    const layout = portLayout(7330);
    const ports = [
      ...TEMPORAL_SERVICES.flatMap((s) => [layout.services[s].grpc, layout.services[s].membership]),
      layout.frontendHttp,
    ];
    assert.equal(new Set(ports).size, ports.length);
    assert.ok(ports.every((p) => p >= 7330 && p <= 7350 && p !== 7233));
  });

  it('builds a missing tool with go install into its own folder per tool and version, else says how to fix', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'txflow-gotool-'));
    try {
      const bin = join(tmp, 'bin');
      await mkdir(bin);
      // Stands in for `go install`: writes the package's last path element into $GOBIN.
      await writeFile(
        join(bin, 'go'),
        '#!/bin/sh\necho "go: downloading example.com/x v1.0.0" >&2\nprintf \'#!/bin/sh\\necho ui\\n\' > "$GOBIN/server"\n/bin/chmod +x "$GOBIN/server"\n',
        { mode: 0o755 },
      );
      const tool = {
        name: 'ui',
        title: 'the UI',
        pkg: 'example.com/ui/v2/cmd/server',
        version: 'v2.0.0',
        expected: '~1 s',
      };
      const env = { PATH: bin, XDG_CACHE_HOME: join(tmp, 'cache') };
      const seen: string[] = [];
      const path = await obtainGoTool(tool, {
        env,
        goDirs: [],
        onProgress: (p) => seen.push(`${p.tool}:${p.phase}`),
      });
      assert.equal(path, join(tmp, 'cache', 'txflow', 'ui', 'v2.0.0', 'server'));
      assert.ok(seen.includes('the UI:building') && seen.includes('the UI:built'), seen.join(' '));
      assert.deepEqual(await readdir(join(tmp, 'cache', 'txflow', 'ui', 'v2.0.0')), ['server']);
      await assert.rejects(
        obtainGoTool(
          { ...tool, version: 'v3.0.0' },
          { env: { PATH: join(tmp, 'none'), XDG_CACHE_HOME: env.XDG_CACHE_HOME }, goDirs: [] },
        ),
        /Cannot build the UI \(example\.com\/ui\/v2\/cmd\/server@v3\.0\.0\): no `go` on PATH[\s\S]*Install Go/,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('cluster: Temporal 1.29.1 on PostgreSQL, services as separate processes, 2 workers, 2 APIs', function () {
  this.timeout(300_000);
  let tools: ClusterTools;
  let settings: ClusterSettings;
  let cluster: RunningCluster;
  let dir: string;
  let verifier: Verifier;

  before(async function () {
    // A first run builds the server (~5 min on 2 cores), the SQL tool and the UI server.
    this.timeout(25 * 60_000);
    const reporter = progressReporter(process.stderr);
    const silent = pino({ level: 'silent' });
    const cliPath = await obtainTemporalCli({ onProgress: reporter.onProgress, log: silent });
    tools = await obtainClusterTools({ onProgress: reporter.onProgress, log: silent });
    reporter.done();
    dir = await mkdtemp(join(tmpdir(), 'txflow-cluster-'));
    const ports = await freePortBlock();
    settings = clusterSettings({
      CLUSTER_DB_PREFIX: 'txflow_test',
      CLUSTER_PORT_BASE: String(ports.base),
      CLUSTER_UI_PORT: String(ports.ui),
      CLUSTER_MOCK_PORT: String(ports.mock),
      CLUSTER_API_PORT: String(ports.api),
      CLUSTER_DIR: dir,
      TASK_QUEUE: 'txflow-cluster-test',
    });
    // From nothing, so the test covers creation; the prefix keeps this to the test's own databases.
    await dropDatabases(tools.sqlTool, settings.postgres);
    cluster = await startCluster({
      settings,
      tools,
      cliPath,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      mockEnv: { LOG_LEVEL: 'warn', MOCK_SEED: '20261124' },
      // info: the worker's ready line; it logs nothing per transaction at info.
      workerEnv: { ...FAST_WORKER_ENV, LOG_LEVEL: 'info' },
      apiEnv: { ...API_ENV, LOG_LEVEL: 'warn' },
      log,
    });
    verifier = new Verifier(verifierView(cluster));
  });

  after(async function () {
    this.timeout(120_000);
    await verifier?.close();
    await cluster?.stop();
    // Kept when a test failed: the Temporal and txflow logs are there.
    const failed = this.test?.parent?.tests.some((t) => t.state === 'failed') ?? false;
    if (failed && dir) log(`kept ${dir} (logs)`);
    else if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs each Temporal service in its own process, with the migrated schema; a setup rerun changes nothing', async () => {
    for (const role of cluster.temporal.roles) assert.ok(cluster.process(role), `${role} runs`);
    assert.equal(new Set(cluster.temporal.roles.map((r) => cluster.process(r)?.pid)).size, 4);
    const moduleDir = await serverModuleDir();
    assert.ok(moduleDir, 'the server module is in the Go module cache');
    const before = await schemaSnapshot(settings);
    const { temporal, visibility } = settings.postgres.databases;
    assert.equal(
      before[`${temporal} schema_version`]?.[0]?.split('|')[3],
      await newestSchemaVersion(moduleDir, 'temporal'),
    );
    assert.equal(
      before[`${visibility} schema_version`]?.[0]?.split('|')[3],
      await newestSchemaVersion(moduleDir, 'visibility'),
    );
    assert.ok((before[`${temporal} tables`] ?? []).includes('executions'));
    await migrateDatabases({ sqlTool: tools.sqlTool, postgres: settings.postgres, moduleDir });
    assert.deepEqual(await schemaSnapshot(settings), before);
  });

  it('end to end with downstream faults: duplicates sent concurrently to both APIs, 0 lost, 0 duplicates', async () => {
    await cleanMock(cluster);
    await setFaults(cluster, {
      preWriteFailureRate: 0.2,
      postWriteFailureRate: 0.1,
      postWriteMode: 'mixed',
      postWriteHangMs: 3_000,
      postLatencyMs: { min: 0, max: 20 },
    });
    const [api1, api2] = cluster.urls.apis as [string, string];
    // The same IDs and bodies on both instances at the same moments: every one is a concurrent duplicate.
    const options = { idPrefix: `e2e-${Date.now()}-`, count: 150, rate: 15 };
    const a = new Load({ ...options, api: api1 }).start();
    const b = new Load({ ...options, api: api2 }).start();
    await Promise.all([a.done(), b.done()]);
    await Promise.all([a.close(), b.close()]);
    assert.equal(a.accepted + b.accepted, 300, `${a.status()} / ${b.status()}`);
    for (let i = 0; i < a.records.length; i++) {
      const statuses = [a.records[i]?.acceptedStatus, b.records[i]?.acceptedStatus];
      assert.ok(
        statuses.filter((s) => s === 202).length <= 1,
        `${a.records[i]?.id}: one start, ${statuses.join('/')}`,
      );
    }
    const accepted202 = a.summary().accepted202 + b.summary().accepted202;
    assert.ok(accepted202 > 0 && accepted202 <= 150, `${accepted202} answered 202`);
    // The faults stay on until the workers have met both kinds: on a loaded machine a fresh cluster's
    // workers can start posting after the load ends (CI once saw no POST at all while they were on).
    let stats: MockStats | undefined;
    const met = await until(
      async () => {
        stats = (await getJson<MockStats>(`${cluster.urls.posting}/admin/stats`)).body;
        return stats.faults.preWrite > 0 && stats.faults.postWrite > 0;
      },
      120_000,
      250,
    );
    assert.ok(
      met,
      `both fault kinds injected while on: ${JSON.stringify(stats?.faults)} ${JSON.stringify(stats?.requests)}`,
    );
    await setFaults(cluster, NO_FAULTS);
    const v = await verifier.verify(a.records, { deadlineMs: 240_000, log });
    assert.deepEqual(v.pending, [], 'every accepted transaction finished');
    assert.equal(v.completed, 150);
    assert.deepEqual(v.lost, []);
    assert.deepEqual(v.duplicates, []);
    assert.deepEqual(
      v.unexpected.filter((id) => id.startsWith(options.idPrefix)),
      [],
    );
  });

  it('one worker of two killed -9 mid-load: the other finishes the work, the API keeps answering', async () => {
    await cleanMock(cluster);
    await setFaults(cluster, { ...NO_FAULTS, postLatencyMs: { min: 200, max: 500 } });
    const load = new Load({
      api: cluster.urls.apis[0] ?? '',
      idPrefix: `wk-${Date.now()}-`,
      count: 120,
      rate: 15,
    }).start();
    assert.ok(await until(() => load.accepted >= 40, 120_000), load.status());
    const killedAt = Date.now();
    await cluster.kill('worker-1');
    log(`worker-1 killed with ${load.status()}`);
    // The API answers health throughout (it needs Temporal, not a worker).
    const healthDuring: number[] = [];
    while (load.finished < load.records.length) {
      healthDuring.push((await getJson(`${cluster.urls.apis[0]}/api/health`)).status);
      await sleep(500);
    }
    await load.close();
    assert.equal(load.accepted, 120, load.status());
    assert.ok(
      healthDuring.length > 0 && healthDuring.every((s) => s === 200),
      `health: ${healthDuring.join(',')}`,
    );
    const v = await verifier.verify(load.records, { deadlineMs: 240_000, log });
    assert.deepEqual(v.pending, []);
    assert.deepEqual(v.lost, []);
    assert.deepEqual(v.duplicates, []);
    assert.ok(cluster.process('worker-2'), 'worker-2 still runs');
    assert.equal(cluster.process('worker-1'), undefined);
    const finishedAfter = load.records.filter(
      (r) => Date.parse(verifier.views.get(r.id)?.completedAt ?? '') > killedAt,
    );
    assert.ok(finishedAfter.length > 0, 'worker-2 finished transactions after the kill');
    await cluster.startWorker('worker-1');
  });

  it('the history service killed -9 mid-load and started again: nothing accepted is lost', async () => {
    await cleanMock(cluster);
    await setFaults(cluster, NO_FAULTS);
    const history = cluster.temporal.roleOf('history');
    const load = new Load({
      api: cluster.urls.apis[1] ?? '',
      idPrefix: `hist-${Date.now()}-`,
      count: 150,
      rate: 15,
      giveUpMs: 240_000,
    }).start();
    assert.ok(await until(() => load.accepted >= 50, 120_000), load.status());
    const acceptedBefore = load.accepted;
    await cluster.kill(history);
    const killedAt = Date.now();
    log(`${history} killed with ${load.status()}`);
    await sleep(5_000);
    const restartedAt = Date.now();
    await cluster.restartTemporal(history);
    log(`${history} back: ${load.status()}`);
    await load.done();
    await load.close();
    assert.ok(acceptedBefore >= 50);
    // Without the history service no start can be recorded, so nothing may have been answered 202.
    const during = load.records.flatMap((r) =>
      r.attempts.filter((a) => a.sentAt >= killedAt && a.answeredAt <= restartedAt),
    );
    assert.equal(during.filter((a) => a.status === 202).length, 0, JSON.stringify(during.slice(0, 5)));
    assert.equal(load.accepted, 150, load.status());
    const v = await verifier.verify(load.records, { deadlineMs: 240_000, log });
    assert.deepEqual(v.pending, [], 'every accepted transaction finished');
    assert.equal(v.completed, 150);
    assert.deepEqual(v.lost, []);
    assert.deepEqual(v.duplicates, []);
  });

  it('the API answers 503 while the frontend is down and 202 once it is back', async () => {
    const frontend = cluster.temporal.roleOf('frontend');
    const api = cluster.urls.apis[0] ?? '';
    const tx = {
      id: `fe-${Date.now()}`,
      amount: '12.34',
      currency: 'EUR',
      source_account: 'acc_a',
      destination_account: 'acc_b',
    };
    await cluster.kill(frontend);
    const down = await post(api, tx);
    assert.equal(down.status, 503);
    assert.match(down.retryAfter ?? '', /^\d+$/);
    assert.equal((await getJson(`${api}/api/health`)).status, 503);
    await cluster.restartTemporal(frontend);
    // The API's connection reconnects by itself; until then it keeps answering 503.
    const back = await eventually(
      async () => {
        const r = await post(api, tx);
        assert.notEqual(r.status, 503);
        return r;
      },
      60_000,
      500,
    );
    assert.equal(back.status, 202, 'the first request was refused, so this one starts it');
    await eventually(
      async () => {
        const { body } = await getJson<{ status: string }>(`${api}/api/transactions/${tx.id}`);
        assert.equal(body.status, 'completed');
      },
      60_000,
      500,
    );
  });
});
