import { Client, Connection, type ConnectionLike, type WorkflowClientInterceptor } from '@temporalio/client';
import { temporalConnectionOptions, type TemporalSettings } from '../../config/temporal';

/**
 * One client for the process. The connection is lazy so the API starts (and answers 503) while Temporal
 * is down. TLS, mTLS and the API key come from the settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY).
 */
export function createTemporalClient(settings: TemporalSettings, options: ClientOptions = {}): Client {
  return clientOn(Connection.lazy(temporalConnectionOptions(settings)), settings.namespace, options);
}

export interface ClientOptions {
  /** Tracing on: the OpenTelemetry interceptors (src/tracing), so a workflow start joins the request's trace. */
  interceptors?: WorkflowClientInterceptor[];
}

/**
 * The API's client on a given connection: a worker's NativeConnection in the all-in-one process, so that
 * workflows can be started eagerly. A query on a closed workflow is rejected, not replayed on a worker.
 */
export function clientOn(connection: ConnectionLike, namespace: string, options: ClientOptions = {}): Client {
  return new Client({
    connection,
    namespace,
    workflow: { queryRejectCondition: 'NOT_OPEN' },
    ...(options.interceptors && { interceptors: { workflow: options.interceptors } }),
  });
}
