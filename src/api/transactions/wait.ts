import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Response } from 'express';
import { validationProblem } from '../http/problem';
import type { ApiMetrics, WaitKind, WaitOutcome } from '../metrics/metrics';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { SECONDS, waitMessage } from './wait-docs';
import { isTerminal, type TransactionView } from './transaction-view';
import type { TransactionsService } from './transactions-service';

const {
  HISTORY_EVENT_FILTER_TYPE_ALL_EVENT: ALL_EVENTS,
  HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: CLOSE_EVENT,
} = temporal.api.enums.v1.HistoryEventFilterType;

/** The field a bad `Prefer: wait` is reported under, named like `header.Idempotency-Key`. */
export const PREFER_FIELD = 'header.Prefer';

// RFC 7240: preferences are comma-separated, each `token [= word] *( ; parameter )`; a word may be quoted.
// Parsed by hand, not by one regular expression: a header of 16 KB of spaces must not cost a backtracking scan.

/** Splits a Prefer header on the commas outside quoted strings. */
function preferences(header: string): string[] {
  return header.match(/(?:[^,"]|"[^"]*")+/g) ?? [];
}

/**
 * The `wait` preference of a Prefer header (RFC 7240), in seconds; undefined without one. Other preferences
 * are ignored; of several `wait`s the first counts (RFC 7240 section 2). A `wait` that is not a whole number of
 * seconds from 0 to `maxSeconds` is a 400 naming `header.Prefer`: a client asking to wait gets no silent 202.
 */
export function preferredWait(header: string | undefined, maxSeconds: number): number | undefined {
  if (header === undefined) return undefined;
  for (const preference of preferences(header)) {
    const head = preference.split(';', 1)[0] ?? ''; // its parameters do not matter
    const equals = head.indexOf('=');
    const name = (equals === -1 ? head : head.slice(0, equals)).trim();
    if (name.toLowerCase() !== 'wait') continue;
    let value = equals === -1 ? undefined : head.slice(equals + 1).trim();
    if (value !== undefined && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    return waitSeconds(value, maxSeconds);
  }
  return undefined;
}

/** A wait in whole seconds from 0 to `maxSeconds`, else a 400 naming `header.Prefer`. */
function waitSeconds(value: string | undefined, maxSeconds: number): number {
  const seconds = value !== undefined && SECONDS.test(value) ? Number(value) : NaN;
  if (seconds <= maxSeconds) return seconds;
  throw validationProblem([{ field: PREFER_FIELD, message: waitMessage(maxSeconds, 'wait') }]);
}

export interface WaitsDeps {
  client: Client;
  service: TransactionsService;
  metrics: ApiMetrics;
  /** API_MAX_OPEN_WAITS: past this many open waits a request does not wait. */
  maxOpen: number;
}

/** What a submission answers after waiting: the final view (201 new, 200 known), or the current one (202). */
export interface WaitedAnswer {
  status: 200 | 201 | 202;
  view: TransactionView;
  /** False when the wait was not applied (too many open): no `Preference-Applied`, as RFC 7240 allows. */
  applied: boolean;
}

/**
 * Waits on Temporal for a client, never longer than the client: each wait is one long-poll call (the run's
 * history), aborted when the N seconds pass or the client hangs up, and counted while it runs.
 */
export class TransactionWaits {
  private readonly open = new Set<AbortController>();
  private stopping = false;

  constructor(private readonly deps: WaitsDeps) {}

  /**
   * The API is stopping: every open wait ends now as if its N seconds had passed (its client gets the current
   * view, with `Connection: close`), and new ones do not wait, rather than holding the shutdown for its grace.
   */
  endAll(): void {
    this.stopping = true;
    for (const controller of this.open) controller.abort('timeout');
  }

  /**
   * A submission under `Prefer: wait=N`: up to N s for the run to close. Undefined when the client left (answer
   * nothing). `isNew`: this request started the run.
   */
  async forResult(
    res: Response,
    id: string,
    view: TransactionView,
    seconds: number,
    isNew: boolean,
  ): Promise<WaitedAnswer | undefined> {
    const finalStatus = isNew ? 201 : 200;
    if (isTerminal(view.status)) return { status: finalStatus, view, applied: true };
    if (seconds === 0) return { status: 202, view, applied: true };
    if (this.full('result')) return { status: 202, view, applied: false };
    try {
      // The close event only: like WorkflowHandle.result(), without fetching the result twice.
      const outcome = await this.wait('result', seconds, res, async (signal) => {
        for await (const closed of this.historyBatches(id, signal, CLOSE_EVENT)) if (closed) return true;
        return true;
      });
      if (outcome === 'client_gone') return undefined;
      const current = (await this.deps.service.get(id))?.view ?? view;
      const status = outcome === 'final' ? finalStatus : 202;
      return { status, view: current, applied: true };
    } catch {
      // The transaction was accepted: a failure while waiting must not read as "nothing started".
      return { status: 202, view, applied: true };
    }
  }

  /**
   * A read under `?wait=N`: up to N s for the status to differ from `view`'s. Each batch of new events in the
   * run's history (every status change is one: a search attribute upsert, or the close) is followed by a read
   * of the view. Undefined when the client left.
   */
  async forChange(
    res: Response,
    id: string,
    view: TransactionView,
    seconds: number,
  ): Promise<TransactionView | undefined> {
    if (isTerminal(view.status) || seconds === 0 || this.full('change')) return view;
    let current = view;
    const outcome = await this.wait('change', seconds, res, async (signal) => {
      for await (const closed of this.historyBatches(id, signal, ALL_EVENTS)) {
        signal.throwIfAborted();
        current = (await this.deps.service.get(id))?.view ?? current;
        if (current.status !== view.status || closed) return true;
      }
      return true;
    });
    if (outcome === 'client_gone') return undefined;
    if (outcome === 'timeout') current = (await this.deps.service.get(id))?.view ?? current;
    return current;
  }

  /**
   * True (and counted) when API_MAX_OPEN_WAITS are open: the request is answered at once rather than holding one
   * more long-poll call and socket, so a flood of waiting clients cannot exhaust the process.
   */
  private full(kind: WaitKind): boolean {
    if (this.open.size < this.deps.maxOpen) return false;
    this.deps.metrics.waitRefused(kind);
    return true;
  }

  /**
   * Long-polls the run's history: yields after each response that brought events (the first brings those so
   * far, which also covers a change between the caller's read and the poll), with whether the run has closed.
   * `signal` is checked before each call: an abort between two calls would not cancel the second.
   */
  private async *historyBatches(
    id: string,
    signal: AbortSignal,
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType,
  ): AsyncGenerator<boolean> {
    const { client } = this.deps;
    let nextPageToken: Uint8Array | undefined;
    for (;;) {
      signal.throwIfAborted();
      const page = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: id },
        waitNewEvent: true,
        historyEventFilterType,
        skipArchival: true,
        nextPageToken,
      });
      const closed = !page.nextPageToken?.length;
      if ((page.history?.events?.length ?? 0) > 0 || closed) yield closed;
      if (closed) return;
      nextPageToken = page.nextPageToken ?? undefined;
    }
  }

  /**
   * Runs `poll` (true: what was waited for happened) under one AbortController, aborted after `seconds` or when
   * the client hangs up; a deadline a little later bounds it should the abort be missed. Counted in the metrics
   * until `poll` has settled, i.e. until its gRPC call has really ended.
   */
  private async wait(
    kind: WaitKind,
    seconds: number,
    res: Response,
    poll: (signal: AbortSignal) => Promise<boolean>,
  ): Promise<WaitOutcome> {
    const ended = this.deps.metrics.waitStarted(kind);
    this.deps.metrics.untimedResponse(res); // a latency alert must not fire on clients that chose to wait
    const controller = new AbortController();
    this.open.add(controller);
    if (this.stopping) controller.abort('timeout');
    const timer = setTimeout(() => controller.abort('timeout'), seconds * 1000);
    const onClose = () => {
      if (res.closed && !res.writableEnded) controller.abort('client_gone');
    };
    res.once('close', onClose);
    onClose(); // the client may have left while the request was being handled
    const { client } = this.deps;
    let outcome: WaitOutcome = 'error';
    try {
      const happened = await client.withAbortSignal(controller.signal, () =>
        client.withDeadline(Date.now() + seconds * 1000 + 2_000, () => poll(controller.signal)),
      );
      outcome = happened ? (kind === 'result' ? 'final' : 'changed') : 'timeout';
      return outcome;
    } catch (err) {
      if (!controller.signal.aborted) throw asTemporalUnavailable(err);
      outcome = controller.signal.reason === 'client_gone' ? 'client_gone' : 'timeout';
      return outcome;
    } finally {
      clearTimeout(timer);
      this.open.delete(controller);
      res.off('close', onClose);
      ended(outcome);
    }
  }
}
