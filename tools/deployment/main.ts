// `npm run deployment -- describe | set-current <build-id>`: the rollout of a new worker build, and its rollback
// (docs/operations.md "Rolling out a new worker version"). See --help.
import { Client, Connection } from '@temporalio/client';
import { runMain } from '../../src/config/env';
import { temporalConnectionOptions, temporalSettings } from '../../src/config/temporal';
import { describeDeployment, formatDeployment, setCurrentVersion } from './deployment-api';
import { EXIT, parseDeploymentFlags, type DeploymentAction } from './options';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function run(action: DeploymentAction, client: Client): Promise<void> {
  if (action.kind === 'set-current') {
    const before = await setCurrentVersion(client, action.name, action.buildId);
    const now = action.buildId ?? '(unversioned workers)';
    out(`deployment ${action.name}: current ${now} (was ${before ?? '(unversioned workers)'})`);
  }
  for (const line of formatDeployment(await describeDeployment(client, action.name))) out(line);
}

void runMain(async () => {
  const action = parseDeploymentFlags(process.argv.slice(2));
  if (action === 'help') return;
  const settings = temporalSettings();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: 10_000 });
  } catch (e) {
    err(`cannot reach Temporal at ${settings.address}: ${(e as Error).message}`);
    process.exitCode = EXIT.unreachable;
    return;
  }
  try {
    await run(action, new Client({ connection, namespace: settings.namespace }));
  } catch (e) {
    // Temporal's answer says what is wrong: an unknown deployment, a build no worker polled yet.
    err(`deployment ${action.name}: ${(e as Error).message}`);
    process.exitCode = EXIT.refused;
  } finally {
    await connection.close();
  }
});
