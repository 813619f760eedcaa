import type { Scenario } from '../scenario';
import { apiKill } from './api-kill';
import { breakerOutage } from './breaker-outage';
import { downstreamOutage } from './downstream-outage';
import { faults10k } from './faults-10k';
import { graceful } from './graceful';
import { lateWrite, lateWriteKeys } from './late-write';
import { slowAnswer } from './slow-answer';
import { temporalKill } from './temporal-kill';
import { twoWorkers } from './two-workers';
import { workerKill } from './worker-kill';

/** Every scenario, in the order `all` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  workerKill,
  temporalKill,
  apiKill,
  downstreamOutage,
  slowAnswer,
  lateWrite,
  lateWriteKeys,
  twoWorkers,
  graceful,
  faults10k,
  breakerOutage,
];
