import { z } from 'zod';

/** A configuration problem found at start-up; the message names each variable and its rule. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Variables whose values are secrets: an error message names them but never shows their value. */
const SECRET_NAME = /(^|_)(KEYS?|SECRETS?|TOKENS?|PASSWORDS?)$/;

/** Validates the env vars named by `shape`; throws ConfigError listing every bad variable. */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Env = process.env,
): z.output<z.ZodObject<S>> {
  // Empty values count as unset, as most shells and compose files write them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const shown = SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(env[name] ?? '');
    return `  ${name}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** Runs a process's start-up; a ConfigError stops it with its message and exit code 2. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`Fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  }
}

function numeric(pattern: RegExp, kind: string, defaultValue: number, min: number, max: number) {
  return z
    .string()
    .regex(pattern, { message: `must be ${kind}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    )
    .default(defaultValue);
}

export const integer = (defaultValue: number, min: number, max: number) =>
  numeric(/^-?\d+$/, 'a whole number', defaultValue, min, max);

export const decimal = (defaultValue: number, min: number, max: number) =>
  numeric(/^\d+(\.\d+)?$/, 'a decimal number', defaultValue, min, max);

export function httpUrl(defaultValue: string) {
  return z
    .string()
    .url({ message: 'must be an http(s) URL' })
    .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .default(defaultValue);
}

/** host:port, as the Temporal client takes it. */
export function hostPort(defaultValue: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, { message: 'must be host:port' })
    .default(defaultValue);
}

export function name(defaultValue: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be 1-200 of [A-Za-z0-9._-]' })
    .default(defaultValue);
}

export function bool(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1')
    .default(defaultValue);
}

/**
 * A comma-separated list of secrets (API keys): each `minLength`-`maxLength` visible ASCII characters, no
 * spaces or commas. Unset or empty: an empty list. Problems name a key by its position, never its value.
 */
export function secretList(minLength: number, maxLength: number) {
  const rule = new RegExp(`^[\\x21-\\x2B\\x2D-\\x7E]{${minLength},${maxLength}}$`);
  return z
    .string()
    .transform((raw, ctx) => {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      items.forEach((item, i) => {
        if (!rule.test(item)) {
          ctx.addIssue({
            code: 'custom',
            message: `key ${i + 1} of ${items.length} (${item.length} characters) must be ${minLength}-${maxLength} visible ASCII characters without spaces or commas`,
          });
        }
      });
      return items;
    })
    .default([]);
}
