import { Client, Connection } from '@temporalio/client';
import type { TemporalSettings } from '../config/temporal';

/**
 * One client for the process. The connection is lazy so the API starts (and answers 503) while Temporal
 * is down; a query on a closed workflow is rejected instead of replaying it on a worker.
 */
export function createTemporalClient(settings: TemporalSettings): Client {
  const connection = Connection.lazy({ address: settings.address });
  return new Client({
    connection,
    namespace: settings.namespace,
    workflow: { queryRejectCondition: 'NOT_OPEN' },
  });
}
