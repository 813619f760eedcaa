/**
 * The worker's settings when it shares one machine with its Temporal server (`npm start`, and the bench, which
 * measures txflow as `npm start` runs it). A deployment, whose server has machines of its own, keeps the
 * defaults (100 workflow tasks, 200 activities, no niceness). A value in the environment wins.
 * - Slots: a fault-free transaction is one workflow task that holds its slot through its local check and POST,
 *   so the slots bound how many transactions are in flight (docs/decisions/0025, 0028).
 * - Niceness: acceptance comes first. A niced worker takes the CPU the server and the API leave, so it processes
 *   at full speed when nothing arrives and yields while submissions do; the backlog waits, durably, in the task
 *   queue (docs/decisions/0028). Not for the all-in-one, whose API would be niced with it.
 */
const ONE_MACHINE_SLOTS = {
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '16',
  WORKER_MAX_CONCURRENT_ACTIVITIES: '16',
};
const ONE_MACHINE_NICE = { TXFLOW_NICE: '10' };

/** The one-machine worker settings not already set in `env`; `niced` for a worker process of its own. */
export function oneMachineWorkerEnv(
  env: NodeJS.ProcessEnv = process.env,
  { niced }: { niced: boolean } = { niced: true },
): Record<string, string> {
  const settings = niced ? { ...ONE_MACHINE_SLOTS, ...ONE_MACHINE_NICE } : ONE_MACHINE_SLOTS;
  return Object.fromEntries(Object.entries(settings).filter(([name]) => env[name] === undefined));
}

/**
 * What `npm start` adds to its processes' environment: the one-machine settings only beside a dev server of its
 * own (not with an external TEMPORAL_ADDRESS); the niceness only for the worker, not for the API or all-in-one.
 */
export function stackProcessEnv(
  ownDevServer: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { worker: Record<string, string>; others: Record<string, string> } {
  if (!ownDevServer) return { worker: {}, others: {} };
  return { worker: oneMachineWorkerEnv(env), others: oneMachineWorkerEnv(env, { niced: false }) };
}
