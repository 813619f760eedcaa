import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { TX_SEARCH_ATTRIBUTES } from '../src/domain/search-attributes';
import { cliVersionProblem } from '../tools/stack/cli-version';
import { startDevServer } from '../tools/stack/dev-server';
import { buildTemporalCliWithGo } from '../tools/stack/go-build';
import { formatLogLine } from '../tools/stack/log-format';
import { freePort } from '../tools/shared/ports';
import type { CliProgress } from '../tools/shared/progress';
import { spawnManaged, waitForHttpOk } from '../tools/shared/processes';
import { TXFLOW_PROCESSES, TXFLOW_SCRIPT, txflowCommand } from '../tools/shared/txflow-process';
import { obtainTemporalCli, temporalCliCacheDir } from '../tools/stack/temporal-cli';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const silent = pino({ level: 'silent' });

/** Writes an executable shell script. */
async function script(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

function fakeCli(dir: string, serverVersion: string): Promise<string> {
  return script(join(dir, 'temporal'), `echo "temporal version 1.0.0 (Server ${serverVersion}, UI 2.0.0)"`);
}

describe('stack', () => {
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'txflow-stack-'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe('obtainTemporalCli', () => {
    it('returns TEMPORAL_CLI_PATH as given', async () => {
      const cli = await script(join(tmp, 'my-temporal'), 'exit 0');
      assert.equal(await obtainTemporalCli({ env: { TEMPORAL_CLI_PATH: cli, PATH: '' } }), cli);
    });

    it('rejects a TEMPORAL_CLI_PATH that does not exist, naming it and the fix', async () => {
      const missing = join(tmp, 'no-such-temporal');
      await assert.rejects(
        obtainTemporalCli({ env: { TEMPORAL_CLI_PATH: missing, PATH: '' } }),
        (err: Error) => {
          assert.match(err.message, /TEMPORAL_CLI_PATH=/);
          assert.ok(err.message.includes(missing), err.message);
          assert.match(err.message, /not an executable file/);
          return true;
        },
      );
    });

    it('takes a recent enough temporal on PATH', async () => {
      const bin = join(tmp, 'bin');
      await mkdir(bin);
      const cli = await fakeCli(bin, '1.29.1');
      assert.equal(await obtainTemporalCli({ env: { PATH: bin, XDG_CACHE_HOME: join(tmp, 'cache') } }), cli);
    });

    it('passes over a too old temporal on PATH for the cached build', async () => {
      const bin = join(tmp, 'bin');
      await mkdir(bin);
      await fakeCli(bin, '1.22.0');
      const env = { PATH: bin, XDG_CACHE_HOME: join(tmp, 'cache') };
      const cacheDir = temporalCliCacheDir(env);
      assert.equal(cacheDir, join(tmp, 'cache', 'txflow', 'temporal-cli', 'v1.5.1'));
      await mkdir(cacheDir, { recursive: true });
      const cached = await fakeCli(cacheDir, '1.29.1');
      assert.equal(await obtainTemporalCli({ env }), cached);
    });

    it('when every way fails, says what it tried and how to fix it', async () => {
      const env = { PATH: join(tmp, 'empty'), XDG_CACHE_HOME: join(tmp, 'cache') };
      await assert.rejects(obtainTemporalCli({ env, goDirs: [], sdkDownload: false }), (err: Error) => {
        assert.match(err.message, /no `temporal` on PATH/);
        assert.match(err.message, /no cached build at/);
        assert.match(err.message, /no `go` on PATH/);
        assert.match(err.message, /install Go/);
        assert.match(err.message, /TEMPORAL_CLI_PATH/);
        return true;
      });
    });
  });

  describe('buildTemporalCliWithGo (with a fake go)', () => {
    // Stands in for `go install`: logs two downloads, then writes a CLI into $GOBIN.
    const fakeGo = (dir: string, runs: string) =>
      script(
        join(dir, 'go'),
        [
          `echo run >> '${runs}'`,
          'echo "go: downloading example.com/a v1.0.0" >&2',
          'echo "go: downloading example.com/b v1.0.0" >&2',
          'sleep 1',
          `printf '#!/bin/sh\\necho ok\\n' > "$GOBIN/temporal"`,
          'chmod +x "$GOBIN/temporal"',
        ].join('\n'),
      );

    it('builds once for two concurrent callers, counting downloads, leaving no temp files', async () => {
      const runs = join(tmp, 'runs');
      const goPath = await fakeGo(tmp, runs);
      const cacheDir = join(tmp, 'cache');
      const seen: CliProgress[] = [];
      const build = () =>
        buildTemporalCliWithGo({ goPath, cacheDir, tag: 'v1.5.1', onProgress: (p) => seen.push(p) });
      const [a, b] = await Promise.all([build(), build()]);
      assert.equal(a, join(cacheDir, 'temporal'));
      assert.equal(b, a);
      assert.equal(
        (await readFile(runs, 'utf8')).trim().split('\n').length,
        1,
        'go install ran more than once',
      );
      assert.ok(seen.some((p) => p.phase === 'building' && p.downloads === 2));
      assert.ok(seen.some((p) => p.phase === 'built'));
      assert.deepEqual(await readdir(cacheDir), ['temporal']);
    });

    it('fails with go output and leaves no binary when go install fails', async () => {
      const goPath = await script(join(tmp, 'go'), 'echo "go: module lookup disabled" >&2; exit 1');
      const cacheDir = join(tmp, 'cache');
      await assert.rejects(
        buildTemporalCliWithGo({ goPath, cacheDir, tag: 'v1.5.1' }),
        /exited with code 1[\s\S]*module lookup disabled/,
      );
      assert.deepEqual(await readdir(cacheDir), []);
    });
  });

  describe('cliVersionProblem', () => {
    it('accepts Server 1.29 and newer, rejects older or unparsable output', () => {
      assert.equal(cliVersionProblem('temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)\n'), undefined);
      assert.equal(cliVersionProblem('temporal version 1.6.0 (Server 1.30.0, UI 2.45.0)'), undefined);
      assert.match(cliVersionProblem('temporal version 1.1.2 (Server 1.25.2, UI 2.32.0)') ?? '', /older/);
      assert.match(cliVersionProblem('temporal version 1.1.2') ?? '', /no server version/);
      assert.match(cliVersionProblem('command not found') ?? '', /unexpected/);
    });
  });

  describe('processes', () => {
    it('waits for a line, then stops with SIGTERM', async () => {
      const proc = spawnManaged({
        name: 'sleeper',
        command: process.execPath,
        args: ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'],
      });
      assert.equal(await proc.waitForLine((l) => l === 'ready', 10_000), 'ready');
      const info = await proc.stop(5_000);
      assert.equal(info.signal, 'SIGTERM');
      assert.equal(proc.running, false);
    });

    it('kills with SIGKILL when SIGTERM is ignored past the grace', async () => {
      const proc = spawnManaged({
        name: 'stubborn',
        command: process.execPath,
        args: ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'],
        detached: true,
      });
      await proc.waitForLine((l) => l === 'ready', 10_000);
      assert.equal((await proc.stop(300)).signal, 'SIGKILL');
    });

    it('stops waiting for HTTP when the process exits, with its output', async () => {
      const proc = spawnManaged({
        name: 'crasher',
        command: process.execPath,
        args: ['-e', 'console.error("cannot bind: boom"); process.exit(4)'],
      });
      const url = `http://127.0.0.1:${await freePort()}/health`;
      await assert.rejects(waitForHttpOk(url, { process: proc, timeoutMs: 20_000 }), (err: Error) => {
        assert.match(err.message, /crasher exited with code 4/);
        assert.match(err.message, /cannot bind: boom/);
        return true;
      });
    });

    it('formats a pino line with its component prefix and extra fields', () => {
      const line = JSON.stringify({ level: 30, time: 0, pid: 1, msg: 'worker running', taskQueue: 'txflow' });
      assert.equal(
        formatLogLine('worker', line),
        'worker   | 00:00:00.000 INFO  worker running {"taskQueue":"txflow"}',
      );
      assert.equal(formatLogLine('api', 'plain text'), 'api      | plain text');
    });
  });

  describe('dev server', () => {
    it('the shared test server has the txflow search attributes registered', async () => {
      const connection = await Connection.connect({ address: testTemporalAddress() });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({
          namespace: 'default',
        });
        assert.ok(customAttributes, 'listSearchAttributes returned no custom attributes');
        for (const key of TX_SEARCH_ATTRIBUTES) {
          const expected = temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`];
          assert.equal(customAttributes?.[key.name], expected, `search attribute ${key.name}`);
        }
      } finally {
        await connection.close();
      }
    });

    it('refuses a port that is already in use', async () => {
      const port = await freePort();
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
      try {
        const cliPath = await script(join(tmp, 'temporal'), 'sleep 60');
        await assert.rejects(
          startDevServer({ cliPath, port, namespace: 'default', log: silent }),
          new RegExp(`already in use[\\s\\S]*127\\.0\\.0\\.1:${port}`),
        );
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('fails with the server output when it exits before answering', async () => {
      const cliPath = await script(join(tmp, 'temporal'), 'echo "unknown flag: --bogus" >&2; exit 3');
      await assert.rejects(
        startDevServer({ cliPath, port: await freePort(), namespace: 'default', log: silent }),
        (err: Error) => {
          assert.match(err.message, /temporal exited with code 3/);
          assert.match(err.message, /unknown flag: --bogus/);
          return true;
        },
      );
    });

    it('keeps a workflow across a restart with a file DB', async function () {
      this.timeout(300_000);
      const cliPath = await obtainTemporalCli();
      const dbFile = join(tmp, 'temporal.db');
      const port = await freePort();
      const workflowId = `restart-${Date.now()}`;
      const options = { cliPath, dbFile, port, uiPort: false as const, namespace: 'default', log: silent };

      const first = await startDevServer(options);
      try {
        const connection = await Connection.connect({ address: first.address });
        const client = new Client({ connection, namespace: 'default' });
        // No worker: the workflow just waits in the server's store, which is what we check.
        await client.workflow.start('noop', { taskQueue: uniqueTaskQueue('stack-restart'), workflowId });
        await connection.close();
      } finally {
        await first.stop();
      }
      assert.equal(first.process.running, false);

      const second = await startDevServer(options);
      try {
        const connection = await Connection.connect({ address: second.address });
        const client = new Client({ connection, namespace: 'default' });
        const description = await client.workflow.getHandle(workflowId).describe();
        assert.equal(description.type, 'noop');
        assert.equal(description.status.name, 'RUNNING');
        await connection.close();
      } finally {
        await second.stop();
      }
    });
  });
});

describe("the txflow processes' Node/V8 flags and environment defaults: written once, in scripts/txflow.sh", () => {
  const repo = join(__dirname, '..', '..');

  it('npm run <process>, both image targets and every launcher start the processes through it', async () => {
    const { scripts } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const component of TXFLOW_PROCESSES) {
      assert.equal(scripts[component], `sh scripts/txflow.sh ${component}`, `npm run ${component}`);
    }
    const dockerfile = await readFile(join(repo, 'Dockerfile'), 'utf8');
    assert.match(
      dockerfile,
      /^ENTRYPOINT \["\/bin\/sh", "scripts\/txflow\.sh"\]\nCMD \["api"\]$/m,
      'runtime',
    );
    assert.match(dockerfile, /^ENTRYPOINT \["\/bin\/sh", "scripts\/txflow\.sh", "mock"\]$/m, 'mock target');
    // The launchers (npm start, the cluster, chaos, bench, the tests' processes) spawn through spawnTxflow.
    const command = txflowCommand('worker', ['--x'], { PATH: '/bin' });
    assert.deepEqual([command.command, ...command.args], ['sh', TXFLOW_SCRIPT, 'worker', '--x']);
    assert.equal(TXFLOW_SCRIPT, join(repo, 'scripts', 'txflow.sh'));
    assert.equal(command.env.PATH, `${dirname(process.execPath)}:/bin`, 'the script runs our node');
  });

  it('names the flags and the defaults nowhere else', async () => {
    const setting = /--max-(old|semi)-space-size|MALLOC_ARENA_MAX\s*[=:]/;
    const files = ['package.json', 'Dockerfile', 'docker-compose.yml'];
    for (const dir of ['src', 'tools']) {
      for (const entry of await readdir(join(repo, dir), { recursive: true })) {
        if (entry.endsWith('.ts')) files.push(join(dir, entry));
      }
    }
    for (const file of files) {
      assert.doesNotMatch(await readFile(join(repo, file), 'utf8'), setting, file);
    }
  });

  describe('the script, on stand-in entry points that print what they were given', () => {
    let root: string;
    const SHOW = `console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv,
      arenas: process.env.MALLOC_ARENA_MAX ?? null, args: process.argv.slice(2),
      nice: require('node:os').getPriority() }))`;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'txflow-script-'));
      await mkdir(join(root, 'scripts'));
      await writeFile(join(root, 'scripts', 'txflow.sh'), await readFile(TXFLOW_SCRIPT));
      for (const component of TXFLOW_PROCESSES) {
        const dir = join(root, 'dist', component === 'mock' ? 'tools' : 'src', component);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'main.js'), SHOW);
      }
    });

    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    function run(component: string, env: NodeJS.ProcessEnv = {}, args: string[] = []) {
      const result = spawnSync('sh', [join(root, 'scripts', 'txflow.sh'), component, ...args], {
        env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...env },
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      const shown = JSON.parse(result.stdout) as {
        pid: number;
        execArgv: string[];
        arenas: string | null;
        args: string[];
        nice: number;
      };
      return { ...shown, shellPid: result.pid };
    }

    for (const component of ['api', 'worker', 'all-in-one']) {
      it(`${component}: a capped heap and two malloc arenas, in node itself (exec: the same PID)`, () => {
        const shown = run(component);
        assert.deepEqual(shown.execArgv, ['--max-old-space-size=128', '--max-semi-space-size=4']);
        assert.equal(shown.arenas, '2');
        assert.equal(shown.pid, shown.shellPid, 'signals and RSS sampling reach node');
      });
    }

    it('a MALLOC_ARENA_MAX already in the environment wins; empty counts as unset', () => {
      assert.equal(run('worker', { MALLOC_ARENA_MAX: '4' }).arenas, '4');
      assert.equal(run('worker', { MALLOC_ARENA_MAX: '' }).arenas, '2');
    });

    it('TXFLOW_NICE runs node niced, still in the same PID; empty or unset: as started', function () {
      const base = run('worker').nice;
      if (base > 15) this.skip(); // already too nice to see 3 more
      const niced = run('worker', { TXFLOW_NICE: '3' });
      assert.equal(niced.nice, base + 3, 'added to the niceness it starts with');
      assert.equal(niced.pid, niced.shellPid, 'nice execs node');
      assert.equal(run('worker', { TXFLOW_NICE: '' }).nice, base);
    });

    it('refuses a TXFLOW_NICE that is not 0-19 with exit code 64, naming it', () => {
      for (const value of ['20', '-5', 'ten', '1 0']) {
        const result = spawnSync('sh', [join(root, 'scripts', 'txflow.sh'), 'worker'], {
          env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, TXFLOW_NICE: value },
          encoding: 'utf8',
        });
        assert.equal(result.status, 64, value);
        assert.match(result.stderr, /TXFLOW_NICE must be an integer from 0 to 19/, value);
      }
    });

    it('reconcile and the mock: no flags, no defaults, their arguments passed on', () => {
      for (const component of ['reconcile', 'mock']) {
        const shown = run(component, {}, ['--from', '2026-12-01', 'a b']);
        assert.deepEqual(shown.execArgv, [], component);
        assert.equal(shown.arenas, null, component);
        assert.deepEqual(shown.args, ['--from', '2026-12-01', 'a b'], component);
      }
    });

    it('refuses an unknown process with exit code 64 and the usage', () => {
      const result = spawnSync('sh', [join(root, 'scripts', 'txflow.sh'), 'nope'], { encoding: 'utf8' });
      assert.equal(result.status, 64);
      assert.match(
        result.stderr,
        /usage: api \| worker \| all-in-one \| reconcile \[options\] \| mock \(got: nope\)/,
      );
    });
  });
});
