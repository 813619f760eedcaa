// `npm run replay`'s command line: what to replay (IDs or a visibility query) and against which workflow code.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { commandLine, FlagError, type CommandSpec } from '../shared/cli';

export const DEFAULT_LIMIT = 1_000;
const MAX_LIMIT = 100_000;

export const COMMAND = {
  synopsis: "npm run replay -- <workflow-id...> | --query '<visibility query>' [flags]",
  about: [
    'Fetches the histories of the given transactions (or of those a visibility query selects) from the Temporal',
    'server configured by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TEMPORAL_TLS_* / TEMPORAL_API_KEY variables,',
    'as the worker connects, and replays each against the workflow code the worker would run',
    '(dist/workflow-bundle.js, rebuilt when older than dist/src/workflows). One line per ID, then a summary.',
    '--query is ANDed with WorkflowType = "processTransaction"; newest first, at most --limit.',
    'Exit code: 0 every history replayed, 1 a history does not replay (NONDETERMINISM or FAILED),',
    '2 bad flags, 3 cannot reach Temporal, 4 nothing broke but an ID could not be checked (not found).',
  ],
  flags: {
    query: { type: 'string', help: 'a visibility query instead of IDs, e.g. ExecutionStatus="Running"' },
    limit: {
      type: 'string',
      help: 'replay at most this many histories (--query)',
      shown: String(DEFAULT_LIMIT),
    },
    'run-id': { type: 'string', help: 'the run to replay (with a single ID; default: the latest)' },
    json: { type: 'boolean', help: 'print one JSON document instead of lines' },
    workflows: {
      type: 'string',
      help: 'for developers: replay against this compiled workflows module instead of the bundle',
    },
  },
  positionals: true,
} satisfies CommandSpec;

export type Selection =
  | { kind: 'ids'; ids: readonly { workflowId: string; runId?: string }[] }
  | { kind: 'query'; query: string; limit: number };

export interface ReplayOptions {
  selection: Selection;
  json: boolean;
  /** An absolute path to a workflows module to bundle; absent: the worker's bundle. */
  workflowsPath?: string;
}

/** The options, `help` when --help was given, or `usage` when nothing was asked for; FlagError when bad. */
export function parseReplayFlags(argv: readonly string[]): ReplayOptions | 'help' | 'usage' {
  const parsed = commandLine(COMMAND, argv);
  if (!parsed) return 'help';
  const { values, positionals } = parsed;
  if (positionals.length === 0 && values.query === undefined) return 'usage';
  const problems: string[] = [];
  const problem = (text: string) => problems.push(`  ${text}`);

  if (values.query !== undefined && positionals.length > 0)
    problem(`--query: give either workflow IDs or --query, not both (IDs: ${positionals.join(' ')})`);
  if (values.query !== undefined && values.query.trim() === '') problem('--query: must not be empty');
  const limit = values.limit ?? String(DEFAULT_LIMIT);
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT)
    problem(`--limit ${JSON.stringify(limit)}: must be a whole number from 1 to ${MAX_LIMIT}`);
  if (values.limit !== undefined && values.query === undefined)
    problem('--limit: only with --query (IDs are replayed all)');
  const runId = values['run-id'];
  if (runId !== undefined && positionals.length !== 1) problem('--run-id: only with exactly one workflow ID');
  if (runId !== undefined && !/^[0-9a-fA-F-]{1,64}$/.test(runId))
    problem(`--run-id ${JSON.stringify(runId)}: must be a run ID (hex digits and dashes)`);
  const blank = positionals.filter((id) => id.trim() === '');
  if (blank.length > 0) problem('workflow ID: must not be empty');
  const workflowsPath = values.workflows === undefined ? undefined : path.resolve(values.workflows);
  if (workflowsPath !== undefined && !existsSync(workflowsPath))
    problem(`--workflows ${values.workflows}: no such file`);
  if (problems.length > 0) throw new FlagError(`Invalid flags:\n${problems.join('\n')}`);

  const selection: Selection =
    values.query !== undefined
      ? { kind: 'query', query: values.query, limit: Number(limit) }
      : {
          kind: 'ids',
          // The same ID twice is replayed once.
          ids: [...new Set(positionals)].map((workflowId) => ({
            workflowId,
            ...(runId !== undefined && { runId }),
          })),
        };
  return {
    selection,
    json: values.json === true,
    ...(workflowsPath !== undefined && { workflowsPath }),
  };
}
