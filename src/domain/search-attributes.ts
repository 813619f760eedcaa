import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes that txflow sets on every transaction workflow, so operators can filter
// runs in the Web UI and with `temporal workflow list --query`. They must be registered on the
// namespace before any workflow uses them (an unknown attribute fails the workflow task forever).
export const TX_STATUS = defineSearchAttributeKey('TxStatus', SearchAttributeType.KEYWORD);
export const TX_AMOUNT = defineSearchAttributeKey('TxAmount', SearchAttributeType.DOUBLE);
export const TX_CURRENCY = defineSearchAttributeKey('TxCurrency', SearchAttributeType.KEYWORD);
export const TX_SOURCE_ACCOUNT = defineSearchAttributeKey('TxSourceAccount', SearchAttributeType.KEYWORD);
export const TX_DESTINATION_ACCOUNT = defineSearchAttributeKey(
  'TxDestinationAccount',
  SearchAttributeType.KEYWORD,
);

// Where a transaction is and how many downstream calls it has made, kept current by its workflow, so an
// operator finds what is stuck (`TxPhase = "posting" AND TxAttempts > 5`).
export const TX_PHASE = defineSearchAttributeKey('TxPhase', SearchAttributeType.KEYWORD);
export const TX_ATTEMPTS = defineSearchAttributeKey('TxAttempts', SearchAttributeType.INT);

export const TX_SEARCH_ATTRIBUTES = [
  TX_STATUS,
  TX_AMOUNT,
  TX_CURRENCY,
  TX_SOURCE_ACCOUNT,
  TX_DESTINATION_ACCOUNT,
  TX_PHASE,
  TX_ATTEMPTS,
];

const CLI_TYPES: Record<string, string> = { KEYWORD: 'Keyword', DOUBLE: 'Double', INT: 'Int' };

/** A key's type as the `temporal` CLI spells it (`--type Int`). */
export function cliTypeName(key: { type: string }): string {
  return CLI_TYPES[key.type] ?? key.type;
}

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
export function searchAttributeFlags(): string[] {
  return TX_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${cliTypeName(key)}`);
}
