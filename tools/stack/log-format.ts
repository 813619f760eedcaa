// Child processes write pino JSON lines; the local stack shows them prefixed and condensed so that
// four interleaved components stay readable in one terminal. Nothing is dropped: extra fields are
// kept as compact JSON, and lines that aren't JSON pass through as they are.

const PINO_LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields already shown in the condensed form (or that repeat on every line). */
const SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

function levelName(level: unknown): string {
  if (typeof level === 'number') return PINO_LEVELS[level] ?? String(level);
  if (typeof level === 'string') return level.toUpperCase();
  return '';
}

function clock(time: unknown): string {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  const valid = Number.isNaN(date.getTime()) ? new Date() : date;
  return valid.toISOString().slice(11, 23);
}

/** `name | 12:00:01.234 INFO  message {"extra":"fields"}`, with an error's stack on following lines. */
export function formatLogLine(name: string, line: string, width = 8): string {
  const prefix = `${name.padEnd(width)} |`;
  let record: unknown;
  try {
    record = line.startsWith('{') ? JSON.parse(line) : undefined;
  } catch {
    record = undefined;
  }
  if (typeof record !== 'object' || record === null || !('msg' in record)) return `${prefix} ${line}`;
  const fields = record as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  let stack: string | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (SHOWN.has(key)) continue;
    const errStack = (value as { stack?: unknown } | null)?.stack;
    if (typeof errStack === 'string' && stack === undefined) {
      // The stack goes on its own lines; the error's other fields (type, code, ...) stay inline.
      stack = errStack;
      rest[key] = { ...(value as object), stack: undefined };
      continue;
    }
    rest[key] = value;
  }
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const head = `${prefix} ${clock(fields.time)} ${levelName(fields.level).padEnd(5)} ${String(fields.msg)}${extra}`;
  // Continuation lines (multi-line messages, stacks) keep the prefix so the source stays clear.
  const more = stack ? stack.split('\n') : [];
  return [...head.split('\n'), ...more].map((l, i) => (i === 0 ? l : `${prefix}     ${l}`)).join('\n');
}
