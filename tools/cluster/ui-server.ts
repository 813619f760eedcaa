// The Temporal Web UI server (github.com/temporalio/ui-server, assets compiled in) against the cluster.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type ManagedProcess, spawnManaged, waitForHttpOk } from '../shared/processes';

export interface UiServerOptions {
  uiServerPath: string;
  /** Its config and log go to <dir>/ui. */
  dir: string;
  temporalAddress: string;
  port: number;
  namespace: string;
  /** Origins allowed to call it (the API's test page links to it). */
  corsOrigins: string[];
}

export async function startUiServer(
  options: UiServerOptions,
): Promise<{ url: string; process: ManagedProcess }> {
  const root = join(options.dir, 'ui');
  await mkdir(join(root, 'config'), { recursive: true });
  const config = {
    temporalGrpcAddress: options.temporalAddress,
    host: '127.0.0.1',
    port: options.port,
    enableUi: true,
    defaultNamespace: options.namespace,
    cors: { allowOrigins: options.corsOrigins, cookieInsecure: true },
    notifyOnNewVersion: false,
    hideLogs: false,
  };
  await writeFile(join(root, 'config', 'txflow.yaml'), stringify(config));
  const proc = spawnManaged({
    name: 'temporal-ui',
    command: options.uiServerPath,
    args: ['--root', root, '--config', 'config', '--env', 'txflow', 'start'],
    logFile: join(options.dir, 'temporal-ui.log'),
    detached: true,
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitForHttpOk(`${url}/healthz`, { timeoutMs: 60_000, process: proc });
  return { url, process: proc };
}
