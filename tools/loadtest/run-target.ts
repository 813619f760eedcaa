import { request, type Dispatcher } from 'undici';
import type { FaultSettings } from '../mock/config';
import type { MockStats } from '../mock/store';
import { faultPatch, restorePatch, type MockAdmin } from './mock-admin';
import type { FaultFlags } from './options';
import type { LoadTestResult } from './result';
import { verifyDownstream, type VerificationResult, type VerifyInput } from './verify';

/** The target could not be load-tested (unreachable, not txflow, mock missing): nothing was sent. */
export class LoadTestAbort extends Error {
  override name = 'LoadTestAbort';
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** GET /api/health's body; throws unless it answered 200 (Temporal reachable). */
export async function apiHealth(api: string, dispatcher: Dispatcher): Promise<unknown> {
  const res = await request(`${api}/api/health`, { dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = (await res.body.json().catch(() => null)) as unknown;
  if (res.statusCode !== 200) {
    throw new Error(`GET /api/health answered ${res.statusCode} ${JSON.stringify(body)?.slice(0, 300)}`);
  }
  return body;
}

/** The API answers /api/health with 200, the mock (when there is one) its /admin/stats; else LoadTestAbort. */
export async function preflight(
  target: { api: string; mock: string | null },
  mock: MockAdmin | null,
  dispatcher: Dispatcher,
): Promise<unknown> {
  let health: unknown;
  try {
    health = await apiHealth(target.api, dispatcher);
  } catch (err) {
    throw new LoadTestAbort(`txflow API at ${target.api}: ${message(err)}`);
  }
  if (mock !== null) {
    try {
      await mock.stats();
    } catch (err) {
      throw new LoadTestAbort(
        `mock posting service at ${target.mock}: ${message(err)} ` +
          '(pass --mock <url> of the downstream txflow posts to, or --mock none to run without downstream checks)',
      );
    }
  }
  return health;
}

/** Sets the run's fault knobs on the mock, keeping the previous values of exactly those. */
export async function applyFaults(
  mock: MockAdmin | null,
  flags: FaultFlags,
): Promise<LoadTestResult['faults']> {
  const patch = faultPatch(flags);
  const faults: LoadTestResult['faults'] = { applied: null, previous: null, restored: null, during: null };
  if (mock !== null && Object.keys(patch).length > 0) {
    faults.previous = restorePatch(await mock.faults(), patch);
    faults.during = await mock.setFaults(patch);
    faults.applied = patch;
  } else if (mock !== null) {
    faults.during = await mock.faults();
  }
  return faults;
}

/** Puts back what applyFaults changed; records whether that worked. */
export async function restoreFaults(mock: MockAdmin | null, faults: LoadTestResult['faults']): Promise<void> {
  if (mock === null || faults.previous === null) return;
  try {
    await mock.setFaults(faults.previous as Partial<FaultSettings>);
    faults.restored = true;
  } catch {
    faults.restored = false;
  }
}

/**
 * The downstream check, with a mock: what it holds against what was sent (`run`), or why the mock could not
 * be read.
 */
export async function checkDownstream(
  mock: MockAdmin | null,
  statsBefore: MockStats | null,
  run: Pick<VerifyInput, 'idPrefix' | 'expected' | 'statuses'>,
): Promise<{ verification: VerificationResult | null; verificationError: string | null }> {
  if (mock === null || statsBefore === null) return { verification: null, verificationError: null };
  try {
    const [rows, statsAfter] = [await mock.rows(), await mock.stats()];
    return {
      verification: verifyDownstream({ ...run, rows, statsBefore, statsAfter }),
      verificationError: null,
    };
  } catch (err) {
    return { verification: null, verificationError: message(err) };
  }
}
