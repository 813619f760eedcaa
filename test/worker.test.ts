import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { msToTs } from '@temporalio/common/lib/time';
import { NativeConnection } from '@temporalio/worker';
import { assertSearchAttributes } from '../src/worker/search-attributes-check';
import { testClient } from './support/harness';
import { eventually } from './support/eventually';
import { testTemporalAddress } from './support/temporal';

describe('worker start-up checks', function () {
  let connection: NativeConnection;

  before(async function () {
    connection = await NativeConnection.connect({ address: testTemporalAddress() });
  });

  after(async function () {
    await connection?.close();
  });

  it('accepts a namespace where txflow search attributes are registered', async function () {
    await assertSearchAttributes(connection, 'default');
  });

  it('refuses a namespace without them, and says how to register each', async function () {
    const client = await testClient();
    const namespace = `bare-${randomUUID().slice(0, 8)}`;
    await client.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await eventually(async () => {
      await assert.rejects(assertSearchAttributes(connection, namespace), (err: Error) => {
        assert.match(err.message, /lacks txflow's search attributes TxStatus, TxAmount/);
        assert.match(
          err.message,
          new RegExp(
            `temporal operator search-attribute create --namespace ${namespace} --name TxAmount --type Double`,
          ),
        );
        return true;
      });
    });
  });
});
