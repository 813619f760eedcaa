import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, hostPort, name, parseEnv } from './env';

const optionalPath = z.string().min(1).max(4_096).optional();

export const temporalSchema = {
  TEMPORAL_ADDRESS: hostPort('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: name('default'),
  TASK_QUEUE: name('txflow'),
  /** Unset: TLS when any other TLS setting or an API key is given. */
  TEMPORAL_TLS: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1')
    .optional(),
  TEMPORAL_TLS_CA_PATH: optionalPath,
  TEMPORAL_TLS_CERT_PATH: optionalPath,
  TEMPORAL_TLS_KEY_PATH: optionalPath,
  TEMPORAL_TLS_SERVER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, { message: 'must be a host name' })
    .optional(),
  /** Sent as `authorization: Bearer <key>` on every call (Temporal Cloud API keys). Never logged. */
  TEMPORAL_API_KEY: z
    .string()
    .regex(/^[\x21-\x7E]{1,8192}$/, { message: 'must be 1-8192 visible ASCII characters' })
    .optional(),
};

/** The SDK's TLSConfig, by shape (the same for Connection and NativeConnection). */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Present only when the connection uses TLS. */
  tls?: TemporalTls;
  /** Present only when set; see logger.ts for its redaction. */
  apiKey?: string;
}

/**
 * Validates the Temporal variables and reads the TLS files now, so a bad path or a file that holds no PEM stops
 * the process at start-up naming the variable, not at the first call.
 */
export function temporalSettings(env = process.env): TemporalSettings {
  const e = parseEnv(temporalSchema, env);
  const problems: string[] = [];
  const problem = (variable: string, rule: string) =>
    problems.push(`  ${variable}=${JSON.stringify(env[variable] ?? '')}: ${rule}`);

  if (e.TEMPORAL_TLS_CERT_PATH && !e.TEMPORAL_TLS_KEY_PATH)
    problem('TEMPORAL_TLS_KEY_PATH', 'must be set with TEMPORAL_TLS_CERT_PATH (both or neither)');
  if (e.TEMPORAL_TLS_KEY_PATH && !e.TEMPORAL_TLS_CERT_PATH)
    problem('TEMPORAL_TLS_CERT_PATH', 'must be set with TEMPORAL_TLS_KEY_PATH (both or neither)');
  const tlsDetails = [
    'TEMPORAL_TLS_CA_PATH',
    'TEMPORAL_TLS_CERT_PATH',
    'TEMPORAL_TLS_KEY_PATH',
    'TEMPORAL_TLS_SERVER_NAME',
  ] as const;
  if (e.TEMPORAL_TLS === false) {
    for (const variable of tlsDetails) {
      if (e[variable]) problem(variable, 'is set but TEMPORAL_TLS=false turns TLS off');
    }
  }
  const useTls =
    e.TEMPORAL_TLS ?? (e.TEMPORAL_API_KEY !== undefined || tlsDetails.some((v) => e[v] !== undefined));

  const read = (variable: (typeof tlsDetails)[number], pem: RegExp, what: string): Buffer | undefined => {
    const file = e[variable];
    if (!file) return undefined;
    try {
      const content = readFileSync(file);
      if (!pem.test(content.toString('latin1'))) {
        problem(variable, `${file} does not hold a PEM ${what}`);
        return undefined;
      }
      return content;
    } catch (err) {
      problem(variable, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
  };
  const ca = read('TEMPORAL_TLS_CA_PATH', /-----BEGIN CERTIFICATE-----/, 'certificate');
  const crt = read('TEMPORAL_TLS_CERT_PATH', /-----BEGIN CERTIFICATE-----/, 'certificate');
  const key = read('TEMPORAL_TLS_KEY_PATH', /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const settings: TemporalSettings = {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TASK_QUEUE,
  };
  if (useTls) {
    settings.tls = {
      ...(e.TEMPORAL_TLS_SERVER_NAME && { serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME }),
      ...(ca && { serverRootCACertificate: ca }),
      ...(crt && key && { clientCertPair: { crt, key } }),
    };
  }
  if (e.TEMPORAL_API_KEY !== undefined) settings.apiKey = e.TEMPORAL_API_KEY;
  return settings;
}

/** What Connection and NativeConnection take: the address, TLS (explicitly off when not configured) and the API key. */
export function temporalConnectionOptions(settings: TemporalSettings): {
  address: string;
  tls: TemporalTls | false;
  apiKey?: string;
} {
  return {
    address: settings.address,
    // false, not undefined: with an API key the SDK would otherwise turn TLS on by itself.
    tls: settings.tls ?? false,
    ...(settings.apiKey !== undefined && { apiKey: settings.apiKey }),
  };
}

/** For log lines: how the process connects, without any secret. */
export function describeTemporalConnection(settings: TemporalSettings): Record<string, unknown> {
  return {
    address: settings.address,
    namespace: settings.namespace,
    tls: settings.tls
      ? {
          server_name: settings.tls.serverNameOverride ?? null,
          custom_ca: settings.tls.serverRootCACertificate !== undefined,
          client_certificate: settings.tls.clientCertPair !== undefined,
        }
      : false,
    api_key: settings.apiKey !== undefined,
  };
}
