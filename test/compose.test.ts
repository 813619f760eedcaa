// The deployment files, checked without a Docker engine: docker-compose.yml parsed with `yaml`, its
// services, images, ports, dependencies, health checks and restart policies, and every env var it gives a
// txflow process checked against that process's config schema (src/config, tools/mock/config), and the
// production image's contents: the product (src/) and the production dependencies it imports, nothing else.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { apiSchema } from '../src/config/api';
import { policySchema } from '../src/config/policy';
import { postingSchema } from '../src/config/posting';
import { temporalSchema } from '../src/config/temporal';
import { workerSchema } from '../src/config/worker';
import { searchAttributeFlags } from '../src/domain/search-attributes';
import { mockEnvSchema } from '../tools/mock/config';

const ROOT = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  container_name?: string;
  init?: boolean;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const script = readFileSync(join(ROOT, 'scripts', 'txflow.sh'), 'utf8');
const services = compose.services;

/** The lines of one stage of the Dockerfile, `FROM ... AS name` to the next FROM. */
const stage = (name: string) =>
  new RegExp(`^FROM \\S+ AS ${name}$([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, 'm').exec(dockerfile)?.[1] ?? '';
/** A stage's COPY lines from the build context (not from another stage). */
const copies = (text: string) => [...text.matchAll(/^COPY (?!--from)(.*)$/gm)].map((m) => m[1]);

function service(name: string): Service {
  const s = services[name];
  assert.ok(s, `service ${name} is in docker-compose.yml`);
  return s;
}

/** What each txflow process reads from env, by its schemas (LOG_LEVEL: every process's logger). */
const LOG = ['LOG_LEVEL'];
const READS: Record<string, Set<string>> = {
  api: new Set([
    ...Object.keys(apiSchema),
    ...Object.keys(temporalSchema),
    ...Object.keys(policySchema),
    ...LOG,
  ]),
  worker: new Set([
    ...Object.keys(workerSchema),
    ...Object.keys(temporalSchema),
    ...Object.keys(postingSchema),
    ...LOG,
  ]),
  mock: new Set([...Object.keys(mockEnvSchema), ...LOG]),
};
/** What must be set in a container, where the defaults (127.0.0.1) would point at the container itself. */
const REQUIRED: Record<string, string[]> = {
  api: ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE', 'HOST', 'PORT'],
  worker: ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE', 'POSTING_SERVICE_URL'],
  mock: ['HOST', 'PORT'],
};

/** The tools/ files outside `dir` that the .ts files in `dir` import, directly or through each other. */
function toolFilesImportedBy(dir: string): string[] {
  const found = new Set<string>();
  const scan = (file: string): void => {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'/g)) {
      const target = `${resolve(dirname(file), m[1] ?? '')}.ts`;
      const rel = relative(ROOT, target);
      if (!rel.startsWith('tools/') || target.startsWith(dir + sep) || found.has(rel)) continue;
      found.add(rel);
      scan(target);
    }
  };
  for (const entry of readdirSync(dir)) if (entry.endsWith('.ts')) scan(join(dir, entry));
  return [...found].sort();
}

describe('docker-compose.yml and Dockerfile', () => {
  it('has the services of the production topology', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'api',
      'mock',
      'postgresql',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  it('pins every image to a version, Temporal to 1.29.1 and its UI to 2.42.1', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image, `${name} names an image`);
      const tag = /:([^/:@]+)$/.exec(s.image)?.[1];
      assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: ${s.image} is pinned to a version`);
    }
    assert.match(service('temporal').image ?? '', /^temporalio\/(auto-setup|server):1\.29\.1$/);
    assert.match(service('temporal-setup').image ?? '', /^temporalio\/(auto-setup|admin-tools):1\.29\.1/);
    assert.equal(service('temporal-ui').image, 'temporalio/ui:2.42.1');
    assert.match(service('postgresql').image ?? '', /^postgres:\d+\.\d+$/);
    for (const name of ['api', 'worker']) {
      assert.equal(service(name).build, '.', `${name} is built from the Dockerfile`);
      assert.equal(service(name).image, services.api?.image, `${name} shares the one txflow image`);
    }
    // The mock is tooling: the Dockerfile's own `mock` target, so the production image holds the product alone.
    assert.deepEqual(service('mock').build, { context: '.', target: 'mock' });
    assert.notEqual(service('mock').image, services.api?.image);
  });

  it('runs Temporal on PostgreSQL with the postgres12 plugin', () => {
    const env = service('temporal').environment ?? {};
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.ok(Number(env.NUM_HISTORY_SHARDS) >= 1, 'the shard count is explicit');
  });

  it('chooses api, worker or reconcile by command, in multi-stage images run as a non-root user', () => {
    assert.deepEqual(service('api').command, ['api']);
    assert.deepEqual(service('worker').command, ['worker']);
    assert.match(dockerfile, /^FROM \S+ AS mock$/m, 'the mock has its own target');
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
    assert.match(dockerfile, /COPY --from=build/);
    const user = /^USER (\S+)/m.exec(dockerfile)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
    // Both targets start their process through scripts/txflow.sh (its flags and defaults: test/stack.test.ts),
    // which has a case for each command and execs node.
    assert.match(stage('mock'), /^ENTRYPOINT \["\/bin\/sh", "scripts\/txflow\.sh", "mock"\]$/m);
    assert.match(stage('runtime'), /^ENTRYPOINT \["\/bin\/sh", "scripts\/txflow\.sh"\]$/m);
    assert.match(stage('runtime'), /^CMD \["api"\]$/m);
    for (const target of ['mock', 'runtime']) {
      assert.deepEqual(
        copies(stage(target)),
        ['--chown=root:root scripts/txflow.sh ./scripts/txflow.sh'],
        `${target} copies the script`,
      );
    }
    for (const command of ['api', 'worker', 'reconcile', 'mock']) {
      assert.match(script, new RegExp(`^\\s*(.* )?${command}[ )|]`, 'm'), `a case for ${command}`);
    }
    // The process is node itself (exec), niced first when TXFLOW_NICE says so (test/stack.test.ts).
    assert.match(script, /^\s*''\) exec node "\$@" ;;$/m);
    assert.match(script, /^\s*.+\) exec nice -n "\$TXFLOW_NICE" node "\$@" ;;$/m);
  });

  it('publishes the API, UI, mock and Temporal ports; the worker publishes none and has no container_name', () => {
    assert.deepEqual(service('api').ports, ['3000:3000']);
    assert.deepEqual(service('temporal-ui').ports, ['8233:8080']);
    assert.deepEqual(service('mock').ports, ['8080:8080']);
    assert.deepEqual(service('temporal').ports, ['7233:7233']);
    const worker = service('worker');
    assert.equal(worker.ports, undefined, 'a fixed host port would stop --scale worker=N');
    for (const [name, s] of Object.entries(services)) {
      assert.equal(
        s.container_name,
        undefined,
        `${name}: a container_name stops scaling and parallel projects`,
      );
    }
  });

  for (const [name, reads] of Object.entries(READS)) {
    it(`gives ${name} only env vars it reads, and the ones it needs`, () => {
      const env = service(name).environment ?? {};
      for (const key of Object.keys(env))
        assert.ok(reads.has(key), `${name}: ${key} is not read by the ${name}`);
      for (const key of REQUIRED[name] ?? []) assert.ok(key in env, `${name}: ${key} is set`);
      if ('TEMPORAL_ADDRESS' in env) assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
      if ('POSTING_SERVICE_URL' in env) assert.equal(env.POSTING_SERVICE_URL, 'http://mock:8080');
    });
  }

  it('starts each service after what it needs, with conditions', () => {
    const expected: Record<string, Record<string, string>> = {
      temporal: { postgresql: 'service_healthy' },
      'temporal-setup': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      worker: { 'temporal-setup': 'service_completed_successfully', mock: 'service_healthy' },
      api: { 'temporal-setup': 'service_completed_successfully' },
    };
    for (const [name, deps] of Object.entries(expected)) {
      const actual = Object.fromEntries(
        Object.entries(service(name).depends_on ?? {}).map(([dep, v]) => [dep, v.condition]),
      );
      assert.deepEqual(actual, deps, `${name} depends_on`);
    }
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
        if (s.depends_on?.[dep]?.condition === 'service_healthy') {
          assert.ok(services[dep]?.healthcheck, `${dep} has the health check ${name} waits for`);
        }
      }
    }
  });

  it('has a health check and a restart policy on every long-running service; the setup runs once', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'temporal-setup') continue;
      assert.ok(s.healthcheck?.test?.length, `${name} has a health check`);
      assert.ok(['always', 'unless-stopped'].includes(s.restart ?? ''), `${name} restarts (${s.restart})`);
    }
    const setup = service('temporal-setup');
    assert.ok(
      ['no', 'on-failure'].includes(setup.restart ?? ''),
      'the one-shot is not restarted once it succeeded',
    );
    assert.equal(setup.healthcheck, undefined);
  });

  it('registers the namespace and every txflow search attribute with its type, idempotently', () => {
    const setup = service('temporal-setup');
    const script = [setup.entrypoint, setup.command].flat().join(' ');
    assert.match(script, /namespace describe[\s\S]*\|\|[\s\S]*namespace create/);
    for (const flag of searchAttributeFlags()) assert.ok(script.includes(flag), `registers ${flag}`);
    assert.match(script, /search-attribute list[\s\S]*\|\|[\s\S]*search-attribute create/);
  });

  it('builds the production image from src/ alone; the mock target adds tools/mock and nothing else', () => {
    assert.deepEqual(copies(stage('deps')), [
      'package.json package-lock.json ./',
      'tsconfig.json ./',
      'src ./src',
    ]);
    assert.deepEqual(copies(stage('build')), []);
    // The mock's stage copies tools/mock and each tools/ file outside it that the mock imports, at any depth.
    const needed = toolFilesImportedBy(join(ROOT, 'tools', 'mock')).map((f) => `${f} ./${f}`);
    assert.deepEqual(copies(stage('mock-build')), ['tools/mock ./tools/mock', ...needed]);
    assert.match(stage('runtime'), /COPY --from=build /);
    assert.doesNotMatch(
      stage('runtime'),
      /^[^#]*(--from=mock-build|tools\/)/m,
      'no tooling outside comments',
    );
  });

  it('declares as production dependencies exactly the packages src/ imports (what the image ships)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.ts')) {
          const text = readFileSync(file, 'utf8');
          for (const m of text.matchAll(/(?:from |require\(|require\.resolve\()'([^.'][^']*)'/g)) {
            const spec = m[1] ?? '';
            if (spec.startsWith('node:')) continue;
            imported.add(
              spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec),
            );
          }
        }
      }
    };
    walk(join(ROOT, 'src'));
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), [...imported].sort());
  });
});
