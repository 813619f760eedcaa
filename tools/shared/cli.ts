// The tools' command lines: flags declared once (type, one line of help, the default as --help shows it), parsed
// with node:util's parseArgs, and one --help renderer. A bad flag is a FlagError, which runMain turns into its
// message and exit code 2.
import { parseArgs } from 'node:util';
import { ConfigError } from '../../src/config/env';
import { progressReporter, type CliProgress } from './progress';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** One line for --help. */
  help: string;
  /** The default as --help shows it (empty: none). */
  shown?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface CommandSpec<F extends FlagSpecs = FlagSpecs> {
  /** How to call it: the first line of --help, e.g. `npm run chaos -- <scenario...|all> [flags]`. */
  synopsis: string;
  /** What it does and its exit codes, a line each. */
  about: readonly string[];
  /** Lists shown before the flags, e.g. the chaos scenarios: a title and [name, meaning] rows. */
  lists?: readonly { title: string; rows: readonly (readonly [string, string])[] }[];
  /** Its flags (none when absent); every command also takes --help. */
  flags?: F;
  /** Whether it takes arguments that are not flags (chaos's scenario names). */
  positionals?: boolean;
}

/** Exit code 2 through runMain: the message names each bad flag. */
export class FlagError extends ConfigError {
  override name = 'FlagError';
}

type Values<F extends FlagSpecs> = {
  [K in keyof F]?: F[K]['type'] extends 'boolean'
    ? boolean
    : F[K]['type'] extends 'string'
      ? string
      : string | boolean;
};

export type CommandLine<F extends FlagSpecs> =
  { help: true } | { help: false; values: Values<F>; positionals: string[] };

const HELP: FlagSpec = { type: 'boolean', help: 'this text' };

/** Parses `argv` against the spec's flags (strict: an unknown flag is a FlagError). */
export function parseCommandLine<F extends FlagSpecs>(
  spec: CommandSpec<F>,
  argv: readonly string[] = process.argv.slice(2),
): CommandLine<F> {
  const flags: FlagSpecs = { ...spec.flags, help: HELP };
  const options = Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, { type: f.type }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: spec.positionals ?? false,
    });
  } catch (err) {
    throw new FlagError(`Invalid flags:\n  ${err instanceof Error ? err.message : String(err)}`);
  }
  const { help, ...values } = parsed.values;
  if (help === true) return { help: true };
  return { help: false, values: values as Values<F>, positionals: parsed.positionals };
}

/** Rows padded to their widest cells, two spaces apart. */
function columns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `${indent}${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
}

/** The --help text: synopsis, what it does, its lists, then a table of every flag with its default. */
export function renderUsage(spec: CommandSpec<FlagSpecs>): string {
  const flags = Object.entries({ ...spec.flags, help: HELP }).map(([name, f]) => [
    f.type === 'string' ? `--${name} <v>` : `--${name}`,
    f.help,
    f.shown ?? '',
  ]);
  const lists = (spec.lists ?? []).flatMap((list) => [`${list.title}:`, ...columns(list.rows, '  '), '']);
  return [
    spec.synopsis,
    '',
    ...spec.about,
    '',
    ...lists,
    ...columns([['flag', 'meaning', 'default'], ...flags]),
  ].join('\n');
}

/** For a main: --help prints the usage and gives undefined (nothing more to do); otherwise the values. */
export function commandLine<F extends FlagSpecs>(
  spec: CommandSpec<F>,
  argv: readonly string[] = process.argv.slice(2),
): { values: Values<F>; positionals: string[] } | undefined {
  const parsed = parseCommandLine(spec, argv);
  if (!parsed.help) return parsed;
  process.stdout.write(`${renderUsage(spec)}\n`);
  return undefined;
}

/**
 * A main that finds or builds tools (`npm run temporal:cli`, `cluster:tools`): progress on stderr, their paths
 * on stdout, a line each; on failure only the message (it says what was tried and how to fix it), exit 1.
 */
export async function printObtained(
  spec: CommandSpec,
  obtain: (onProgress: (progress: CliProgress) => void) => Promise<readonly string[]>,
): Promise<void> {
  if (!commandLine(spec)) return;
  const reporter = progressReporter(process.stderr);
  try {
    const paths = await obtain(reporter.onProgress);
    reporter.done();
    process.stdout.write(paths.map((path) => `${path}\n`).join(''));
  } catch (err) {
    reporter.done();
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
