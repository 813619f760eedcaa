import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { TX_SEARCH_ATTRIBUTES, cliTypeName } from '../domain/search-attributes';

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/**
 * A workflow that sets an unregistered search attribute fails its task forever, so the worker refuses to
 * start without them, and says how to register them.
 */
export async function assertSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = TX_SEARCH_ATTRIBUTES.filter(
    (key) => customAttributes?.[key.name] !== INDEXED_VALUE_TYPE[key.type],
  );
  if (missing.length === 0) return;
  const commands = missing
    .map(
      (key) =>
        `  temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${cliTypeName(key)}`,
    )
    .join('\n');
  throw new Error(
    `Namespace "${namespace}" lacks txflow's search attributes ${missing.map((k) => k.name).join(', ')}. Register them:\n${commands}`,
  );
}
