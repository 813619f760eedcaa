import { cpus } from 'node:os';
import { buildChecks, collectWarnings } from './checks';
import { RESULT_SCHEMA, type LoadTestResult } from './result';

/** What a run measured; runResult adds the run's length, the environment, the warnings and the checks. */
export type Measured = Omit<
  LoadTestResult,
  'schema' | 'startedAt' | 'finishedAt' | 'durationSeconds' | 'environment' | 'warnings' | 'checks' | 'passed'
>;

/** The result of a run that started at `startedAt` and finishes now. */
export function runResult(startedAt: Date, m: Measured): LoadTestResult {
  const finishedAt = new Date();
  const partial = {
    schema: RESULT_SCHEMA,
    runId: m.runId,
    idPrefix: m.idPrefix,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 10) / 100,
    interrupted: m.interrupted,
    target: m.target,
    options: m.options,
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
    },
    apiHealth: m.apiHealth,
    faults: m.faults,
    phases: m.phases,
    stress: m.stress,
    completion: m.completion,
    verification: m.verification,
    verificationError: m.verificationError,
    timeline: m.timeline,
    endToEndBins: m.endToEndBins,
  } satisfies Omit<LoadTestResult, 'checks' | 'passed' | 'warnings'>;
  const checks = buildChecks(partial);
  return {
    ...partial,
    warnings: collectWarnings(partial),
    checks,
    passed: checks.every((c) => c.ok !== false),
  };
}
