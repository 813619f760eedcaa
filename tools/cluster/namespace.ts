// Creates the namespace and registers txflow's search attributes on a fresh cluster; both steps look first,
// so a second run changes nothing. Then waits until the namespace serves with every attribute listed (the
// same readiness test `npm start` uses for the dev server).
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TX_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { waitForTemporal } from '../stack/dev-server';

/** txflow's attributes are Keyword or Double. */
function indexedValueType(type: string): temporal.api.enums.v1.IndexedValueType {
  const { INDEXED_VALUE_TYPE_DOUBLE, INDEXED_VALUE_TYPE_INT, INDEXED_VALUE_TYPE_KEYWORD } =
    temporal.api.enums.v1.IndexedValueType;
  if (type === 'DOUBLE') return INDEXED_VALUE_TYPE_DOUBLE;
  return type === 'INT' ? INDEXED_VALUE_TYPE_INT : INDEXED_VALUE_TYPE_KEYWORD;
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

export interface NamespaceOptions {
  address: string;
  namespace: string;
  retentionDays: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What was changed: the namespace created, attributes added (empty on a second run). */
export interface NamespaceResult {
  created: boolean;
  added: string[];
}

async function ensureOnce(connection: Connection, options: NamespaceOptions): Promise<NamespaceResult> {
  const { namespace } = options;
  let created = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === NOT_FOUND)) throw err;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        description: 'txflow transactions',
        workflowExecutionRetentionPeriod: msToTs(options.retentionDays * 86_400_000),
      });
      created = true;
    } catch (registerErr) {
      // Another run registered it between our two calls.
      if (!(isGrpcServiceError(registerErr) && registerErr.code === ALREADY_EXISTS)) throw registerErr;
    }
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = TX_SEARCH_ATTRIBUTES.filter((key) => !(customAttributes && key.name in customAttributes));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType(key.type)])),
    });
  }
  return { created, added: missing.map((key) => key.name) };
}

/**
 * Retries while the cluster settles (a new namespace takes a moment to reach every service's cache):
 * every failure but a refusal of what we asked is retried until the deadline.
 */
export async function ensureNamespace(options: NamespaceOptions): Promise<NamespaceResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const connection = Connection.lazy({ address: options.address, interceptors: [] });
  try {
    let result: NamespaceResult | undefined;
    let last = '';
    while (!result) {
      try {
        result = await connection.withDeadline(Date.now() + 10_000, () => ensureOnce(connection, options));
      } catch (err) {
        last = (err as Error).message;
        if (Date.now() >= deadline) {
          throw new Error(`could not set up namespace ${options.namespace} at ${options.address}: ${last}`);
        }
        await sleep(1_000);
      }
    }
    await waitForTemporal(options.address, options.namespace, {
      timeoutMs: Math.max(10_000, deadline - Date.now()),
      searchAttributes: TX_SEARCH_ATTRIBUTES.map((key) => key.name),
    });
    options.log?.(
      `namespace ${options.namespace}: ${result.created ? 'created' : 'already there'}; ` +
        `search attributes ${result.added.length > 0 ? `added: ${result.added.join(', ')}` : 'already registered'}`,
    );
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
