/** A transaction as a stand-in API lists it. */
export interface ListedTx {
  id: string;
  status: string;
  submittedAt: string;
  completedAt: string | null;
}

/**
 * One page of `GET /api/transactions?status=&from=&limit=&cursor=` as txflow answers it: filtered by status
 * and start time, running ones first, then newest close first (`oldest`: the other way round, as an API
 * that does not sort like Temporal would); the cursor is an opaque offset.
 */
export function listingPage(
  all: Iterable<ListedTx>,
  query: URLSearchParams,
  order: 'newest' | 'oldest' = 'newest',
): unknown {
  const status = query.get('status');
  const from = query.get('from');
  const limit = Number(query.get('limit') ?? '50');
  const cursor = query.get('cursor');
  const offset = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  const closed = (t: ListedTx) => (t.completedAt === null ? Infinity : Date.parse(t.completedAt));
  const matching = [...all]
    .filter((t) => status === null || t.status === status)
    .filter((t) => from === null || Date.parse(t.submittedAt) >= Date.parse(from))
    .sort((a, b) => (order === 'newest' ? closed(b) - closed(a) : closed(a) - closed(b)) || 0);
  const next = offset + limit;
  return {
    items: matching.slice(offset, next).map((t) => ({
      transactionId: t.id,
      status: t.status,
      amount: '1.00',
      currency: 'EUR',
      submittedAt: t.submittedAt,
      completedAt: t.completedAt,
    })),
    next_cursor: next < matching.length ? Buffer.from(String(next)).toString('base64url') : null,
  };
}
