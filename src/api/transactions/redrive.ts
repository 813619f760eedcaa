import { setTimeout as sleep } from 'node:timers/promises';
import { StartOutcomeUnknownError, TemporalUnavailableError } from '../temporal/temporal-errors';
import type { ListedOps } from './listed-ops';
import { notFailedStarts } from './retried-since';
import type { RedriveFilter, RedriveResult, SkipReason } from './redrive-schemas';
import type { RetryResult, TransactionsService } from './transactions-service';

export interface RedriveDeps {
  service: TransactionsService;
  /** REDRIVE_MAX_PER_SECOND: retries started per second by this API process, all redrives together. */
  maxPerSecond: number;
  /** Told of each matched transaction's outcome, and of each retry's result (metrics). */
  onOutcome?: (outcome: 'retried' | SkipReason) => void;
  onRetried?: (result: RetryResult) => void;
}

const PAGE_SIZE = 1_000;
const IN_FLIGHT = 16;
const SKIPPED_ITEMS_SHOWN = 1_000;
/** Candidates looked up per visibility call for a newer run. */
const RETRIED_LOOKUP = 100;

/**
 * Bulk retry of failed transactions: list them through visibility (the listing's own query, no call per item),
 * keep those whose last recorded error matches, then run each through the single retry's per-ID rules
 * (TransactionsService.retry), paced. Safe to repeat: an ID already retried is running or completed, and the
 * rules skip it.
 */
export class Redrive {
  private nextSlot = 0;

  constructor(private readonly deps: RedriveDeps) {}

  async run(filter: RedriveFilter): Promise<RedriveResult> {
    const { ids, moreMayMatch } = await this.matching(filter);
    const result: RedriveResult = {
      dry_run: filter.dry_run,
      matched: ids.length,
      retried: 0,
      skipped: 0,
      skipped_by_reason: {},
      skipped_items: [],
      more_may_match: moreMayMatch,
      ids,
    };
    if (filter.dry_run) return result;
    const inFlight = new Set<Promise<void>>();
    for (const id of ids) {
      await this.slot();
      const one: Promise<void> = this.retryOne(id)
        .then((outcome) => this.record(result, id, outcome))
        .finally(() => inFlight.delete(one));
      inFlight.add(one);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return result;
  }

  /**
   * Distinct IDs of failed runs that match, newest first, at most `limit`. Visibility lists closed runs by close
   * time, newest first, so an ID's first listed run is its latest failed one: that run alone decides (an older run
   * that failed in an outage must not redrive a transaction its latest run saw refused).
   */
  private async matching(filter: RedriveFilter): Promise<{ ids: string[]; moreMayMatch: boolean }> {
    const ids = new Set<string>();
    const seen = new Set<string>();
    let token: Uint8Array | undefined;
    do {
      const page = await this.deps.service.list(
        { status: filter.status, from: filter.from, to: filter.to },
        PAGE_SIZE,
        token,
      );
      const candidates: { id: string; closedAt: number }[] = [];
      for (const item of page.items) {
        // A retried transaction keeps its old failed runs in visibility: one ID, judged once.
        if (seen.has(item.transaction.id)) continue;
        seen.add(item.transaction.id);
        if (!errorMatches(item, filter)) continue;
        candidates.push({ id: item.transaction.id, closedAt: Date.parse(item.completedAt ?? '') || 0 });
      }
      // Retried since (a run started after the failed one closed, by an earlier redrive that stopped at its limit or
      // by hand): no longer failed, so it takes no place within this one's limit, and a repeat reaches the rest.
      // Looked up a slice at a time, as far as the limit needs.
      for (let i = 0; i < candidates.length; i += RETRIED_LOOKUP) {
        const slice = candidates.slice(i, i + RETRIED_LOOKUP);
        const starts = await notFailedStarts(
          this.deps.service,
          slice.map((c) => c.id),
        );
        for (const { id, closedAt } of slice) {
          if ((starts.get(id) ?? -1) >= closedAt) continue;
          ids.add(id);
          if (ids.size >= filter.limit) return { ids: [...ids], moreMayMatch: true };
        }
      }
      token = page.nextPageToken ?? undefined;
    } while (token);
    return { ids: [...ids], moreMayMatch: false };
  }

  private async retryOne(id: string): Promise<'retried' | SkipReason> {
    let retried: RetryResult;
    try {
      retried = await this.deps.service.retry(id);
      this.deps.onRetried?.(retried);
    } catch (err) {
      if (err instanceof StartOutcomeUnknownError) return 'outcome_unknown';
      if (err instanceof TemporalUnavailableError) return 'temporal_unavailable';
      throw err;
    }
    if (retried.kind === 'started') return 'retried';
    if (retried.kind === 'not_found') return 'not_found';
    const status = retried.view.status;
    if (status === 'completed' || status === 'cancelled') return status;
    // Still failed, yet Temporal refused the start (a run it does not count as failed, e.g. completed).
    return status === 'failed' ? 'refused' : 'running';
  }

  private record(result: RedriveResult, id: string, outcome: 'retried' | SkipReason): void {
    this.deps.onOutcome?.(outcome);
    if (outcome === 'retried') {
      result.retried += 1;
      return;
    }
    result.skipped += 1;
    result.skipped_by_reason[outcome] = (result.skipped_by_reason[outcome] ?? 0) + 1;
    if (result.skipped_items.length < SKIPPED_ITEMS_SHOWN) result.skipped_items.push({ id, reason: outcome });
  }

  /** Waits for this process's next retry slot: one per 1/maxPerSecond s, shared by concurrent redrives. */
  private async slot(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + 1000 / this.deps.maxPerSecond;
    if (at > now) await sleep(at - now);
  }
}

/** Whether a listed run's last recorded error matches the filter (no error filter: every run matches). */
export function errorMatches(item: ListedOps, filter: Pick<RedriveFilter, 'error' | 'error_kind'>): boolean {
  if (filter.error_kind !== undefined && item.lastErrorKind !== filter.error_kind) return false;
  if (filter.error !== undefined) {
    return item.lastError?.toLowerCase().includes(filter.error.toLowerCase()) ?? false;
  }
  return true;
}
