/**
 * The worker's settings when it shares one machine with its Temporal server (`npm start`, and the bench, which
 * measures txflow as `npm start` runs it). A deployment, whose server has machines of its own, keeps the
 * defaults (100 workflow tasks, 200 activities, no niceness). A value in the environment wins.
 * - Slots: a fault-free transaction is one workflow task that holds its slot through its local check and POST,
 *   so the slots bound how many transactions are in flight (docs/decisions/0025, 0028). While new workflows
 *   arrive faster than the worker takes them, it takes none and finishes those in flight on 4, so the server's
 *   CPU goes to the starts clients wait for (docs/decisions/0030).
 * - Niceness: acceptance comes first. A niced worker takes the CPU the server and the API leave, so it processes
 *   at full speed when nothing arrives and yields while submissions do; the backlog waits, durably, in the task
 *   queue (docs/decisions/0028). Not for the all-in-one, whose API would be niced with it.
 */
const ONE_MACHINE_SLOTS = {
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '16',
  WORKER_MAX_CONCURRENT_ACTIVITIES: '16',
};
/** Slots for work in flight while the worker gives way (never above its max); not in the all-in-one (0030). */
const ONE_MACHINE_INTAKE = 4;
const ONE_MACHINE_NICE = '10';

/** For every process but a worker: run as started, whatever TXFLOW_NICE the launcher inherited. */
export const NOT_NICED = { TXFLOW_NICE: '' };

/**
 * The one-machine worker settings, each from `env` when set there; `niced` for a worker process of its own,
 * otherwise explicitly not niced; `allInOne`: no giving way to intake.
 */
export function oneMachineWorkerEnv(
  env: NodeJS.ProcessEnv = process.env,
  { niced, allInOne = false }: { niced: boolean; allInOne?: boolean } = { niced: true },
): Record<string, string> {
  const slots = Object.fromEntries(
    Object.entries(ONE_MACHINE_SLOTS).map(([name, value]) => [name, env[name] ?? value]),
  );
  // The all-in-one's eager starts ask for a new-workflow slot, which giving way refuses: it keeps every slot.
  const max = Number(slots.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) || 0;
  const intake = allInOne ? 0 : Math.min(ONE_MACHINE_INTAKE, max);
  return {
    ...slots,
    WORKER_INTAKE_WORKFLOW_TASKS: env.WORKER_INTAKE_WORKFLOW_TASKS ?? String(intake),
    TXFLOW_NICE: niced ? (env.TXFLOW_NICE ?? ONE_MACHINE_NICE) : '',
  };
}

/**
 * What `npm start` adds to its processes' environment. The API, the all-in-one and the mock are never niced.
 * Beside a dev server of its own (no external TEMPORAL_ADDRESS) the worker gets the one-machine settings;
 * with an external server it keeps what it inherits (a TXFLOW_NICE given to npm start is the worker's).
 */
export function stackProcessEnv(
  ownDevServer: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { worker: Record<string, string>; others: Record<string, string> } {
  if (!ownDevServer) {
    const given = env.TXFLOW_NICE;
    return { worker: given === undefined ? {} : { TXFLOW_NICE: given }, others: NOT_NICED };
  }
  return {
    worker: oneMachineWorkerEnv(env),
    others: oneMachineWorkerEnv(env, { niced: false, allInOne: true }),
  };
}
