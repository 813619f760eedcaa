/**
 * The worker's slots when it shares one machine with its Temporal server (`npm start`, and the bench, which
 * measures txflow as `npm start` runs it): fewer than a deployment's defaults (100 workflow tasks, 200
 * activities), so that processing leaves the server room to accept new transactions; the backlog waits, durably,
 * in the task queue. A value in the environment wins. Why these numbers: docs/decisions/0025.
 */
const ONE_MACHINE_SLOTS = {
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
  WORKER_MAX_CONCURRENT_ACTIVITIES: '16',
};

/** The one-machine slot settings not already set in `env`. */
export function oneMachineWorkerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(ONE_MACHINE_SLOTS).filter(([name]) => env[name] === undefined));
}
