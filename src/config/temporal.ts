import { hostPort, name, parseEnv } from './env';

export const temporalSchema = {
  TEMPORAL_ADDRESS: hostPort('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: name('default'),
  TASK_QUEUE: name('txflow'),
};

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function temporalSettings(env = process.env): TemporalSettings {
  const e = parseEnv(temporalSchema, env);
  return { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TASK_QUEUE };
}
