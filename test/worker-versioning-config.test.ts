import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ConfigError } from '../src/config/env';
import { workerSettings } from '../src/config/worker';
import { txflowCommand } from '../tools/shared/txflow-process';
import { runProcess } from './support/run-process';

const DEPLOYMENT_MAIN = resolve(__dirname, '..', 'tools', 'deployment', 'main.js');
const deployment = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runProcess(process.execPath, [DEPLOYMENT_MAIN, ...args], { PATH: process.env.PATH, ...env }, 30_000);

describe('worker versioning settings and the deployment command (no server)', function () {
  this.timeout(60_000);

  it('WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID: both make a versioned worker, neither an unversioned one', function () {
    assert.equal(workerSettings({}).version, undefined);
    assert.deepEqual(
      workerSettings({ WORKER_DEPLOYMENT_NAME: 'txflow', WORKER_BUILD_ID: '1.4.0+9f2c1e' }).version,
      {
        deploymentName: 'txflow',
        buildId: '1.4.0+9f2c1e',
      },
    );
    // Empty counts as unset, as everywhere.
    assert.equal(workerSettings({ WORKER_DEPLOYMENT_NAME: '', WORKER_BUILD_ID: '' }).version, undefined);
  });

  it('refuses one without the other and values Temporal would refuse, naming the variable', function () {
    const refused = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => workerSettings(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    refused(
      { WORKER_DEPLOYMENT_NAME: 'txflow' },
      /WORKER_BUILD_ID="": must be set with WORKER_DEPLOYMENT_NAME/,
    );
    refused({ WORKER_BUILD_ID: 'v2' }, /WORKER_DEPLOYMENT_NAME="": must be set with WORKER_BUILD_ID/);
    refused(
      { WORKER_DEPLOYMENT_NAME: 'tx.flow', WORKER_BUILD_ID: 'v2' },
      /WORKER_DEPLOYMENT_NAME="tx.flow": must be/,
    );
    refused(
      { WORKER_DEPLOYMENT_NAME: '__txflow', WORKER_BUILD_ID: 'v2' },
      /WORKER_DEPLOYMENT_NAME="__txflow"/,
    );
    refused({ WORKER_DEPLOYMENT_NAME: 'txflow', WORKER_BUILD_ID: 'v 2' }, /WORKER_BUILD_ID="v 2": must be/);
  });

  it('a worker process with a half-set version stops at start with exit code 2 naming the variable', async function () {
    const { command, args, env } = txflowCommand('worker', [], {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      WORKER_DEPLOYMENT_NAME: 'txflow',
    });
    const result = await runProcess(command, args, env, 30_000);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /WORKER_BUILD_ID="": must be set with WORKER_DEPLOYMENT_NAME \(both or neither\)/,
    );
  });

  it('npm run deployment: --help, bad flags (exit 2), no server (exit 3)', async function () {
    const help = await deployment(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^npm run deployment -- describe \| set-current <build-id>/);
    assert.match(help.stdout, /--unversioned/);

    const noName = await deployment(['describe']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /--name: give the Worker Deployment \(or set WORKER_DEPLOYMENT_NAME\)/);
    const twoWays = await deployment(['set-current', 'v2', '--unversioned', '--name', 'txflow']);
    assert.equal(twoWays.code, 2);
    assert.match(twoWays.stderr, /give a build ID or --unversioned, not both/);
    const badBuild = await deployment(['set-current', 'v 2'], { WORKER_DEPLOYMENT_NAME: 'txflow' });
    assert.equal(badBuild.code, 2);
    assert.match(badBuild.stderr, /set-current "v 2": a build ID must be/);
    const unknown = await deployment(['promote', '--name', 'txflow']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown action "promote"/);

    const unreachable = await deployment(['describe', '--name', 'txflow'], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});
