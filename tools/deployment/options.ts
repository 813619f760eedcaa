// `npm run deployment`'s command line: which Worker Deployment, and what to do with it.
import { BUILD_ID_RULE, DEPLOYMENT_NAME_RULE } from '../../src/config/worker';
import { commandLine, FlagError, type CommandSpec } from '../shared/cli';

export const EXIT = { done: 0, refused: 1, flags: 2, unreachable: 3 } as const;

export const COMMAND = {
  synopsis: 'npm run deployment -- describe | set-current <build-id> | set-current --unversioned [flags]',
  about: [
    "Rolls txflow's versioned workers out and back (Temporal Worker Deployments; docs/operations.md, decision 0022)",
    'on the Temporal server configured by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TLS_* / TEMPORAL_API_KEY.',
    '  describe                 the current and ramping versions, and per version its state and running runs',
    '  set-current <build-id>   new transactions start on that build; running ones stay on theirs (pinned)',
    '  set-current --unversioned  new transactions go to unversioned workers again (leaving versioning)',
    'Temporal refuses a build no worker of it has polled yet: start its workers first.',
    'Exit code: 0 done, 1 Temporal refused (the message says why), 2 bad flags, 3 cannot reach Temporal.',
  ],
  flags: {
    name: {
      type: 'string',
      help: 'the Worker Deployment (as the workers have it)',
      shown: '$WORKER_DEPLOYMENT_NAME',
    },
    unversioned: { type: 'boolean', help: 'set-current: route new runs to unversioned workers' },
  },
  positionals: true,
} satisfies CommandSpec;

export type DeploymentAction =
  { kind: 'describe'; name: string } | { kind: 'set-current'; name: string; buildId: string | undefined };

/** The action, or `help` after --help was printed; FlagError (exit 2) naming what is wrong. */
export function parseDeploymentFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): DeploymentAction | 'help' {
  const parsed = commandLine(COMMAND, argv);
  if (!parsed) return 'help';
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  const problems: string[] = [];
  const name = values.name ?? env.WORKER_DEPLOYMENT_NAME ?? '';
  if (!DEPLOYMENT_NAME_RULE.pattern.test(name))
    problems.push(
      name === ''
        ? '--name: give the Worker Deployment (or set WORKER_DEPLOYMENT_NAME)'
        : `--name ${JSON.stringify(name)}: ${DEPLOYMENT_NAME_RULE.message}`,
    );
  let result: DeploymentAction | undefined;
  if (action === 'describe') {
    if (rest.length > 0) problems.push(`describe takes no arguments (got: ${rest.join(' ')})`);
    if (values.unversioned) problems.push('--unversioned: only with set-current');
    result = { kind: 'describe', name };
  } else if (action === 'set-current') {
    const buildId = rest[0];
    if (values.unversioned && buildId !== undefined)
      problems.push(`set-current: give a build ID or --unversioned, not both (got: ${rest.join(' ')})`);
    else if (!values.unversioned && (buildId === undefined || rest.length > 1))
      problems.push('set-current: give exactly one build ID, or --unversioned');
    else if (buildId !== undefined && !BUILD_ID_RULE.pattern.test(buildId))
      problems.push(`set-current ${JSON.stringify(buildId)}: a build ID ${BUILD_ID_RULE.message}`);
    result = { kind: 'set-current', name, buildId };
  } else {
    problems.push(
      action === undefined
        ? 'give an action: describe or set-current'
        : `unknown action ${JSON.stringify(action)}: describe or set-current`,
    );
  }
  if (problems.length > 0 || !result)
    throw new FlagError(`Invalid flags:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return result;
}
