import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions, type TemporalSettings } from '../config/temporal';

/**
 * One client for the process. The connection is lazy so the API starts (and answers 503) while Temporal
 * is down; a query on a closed workflow is rejected instead of replaying it on a worker. TLS, mTLS and the
 * API key come from the settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY).
 */
export function createTemporalClient(settings: TemporalSettings): Client {
  const connection = Connection.lazy(temporalConnectionOptions(settings));
  return new Client({
    connection,
    namespace: settings.namespace,
    workflow: { queryRejectCondition: 'NOT_OPEN' },
  });
}
