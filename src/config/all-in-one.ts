import { bool, parseEnv } from './env';

export const allInOneSchema = {
  /**
   * Ask Temporal to hand each new run's first workflow task straight back in the start response, to the
   * worker in this process (skipping the matching service). `false`: plain starts, as the separate API does.
   */
  EAGER_WORKFLOW_START: bool(true),
};

export interface AllInOneSettings {
  eagerStart: boolean;
}

export function allInOneSettings(env = process.env): AllInOneSettings {
  const e = parseEnv(allInOneSchema, env);
  return { eagerStart: e.EAGER_WORKFLOW_START };
}
