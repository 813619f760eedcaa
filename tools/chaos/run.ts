import type { ScenarioResult, Size } from './scenario';
import { SCENARIOS } from './scenarios';

export { SCENARIOS };
export type { ScenarioResult, Size };

/** Names of every scenario, in run order. */
export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

/**
 * Runs one scenario on its own cluster (started and stopped here) and resolves what it found; it never throws
 * for a failed check or a broken run: see `passed`, `checks` and `error`.
 */
export function runScenario(
  name: string,
  size: Size,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<ScenarioResult> {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}: one of ${scenarioNames().join(', ')}`);
  return scenario.run(size, log);
}
