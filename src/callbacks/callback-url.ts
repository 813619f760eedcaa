import { isInternalAddress } from './addresses';

export const MAX_CALLBACK_URL_LENGTH = 2048;

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** Whether `hostname` (as URL.hostname writes it) and `port` match an entry of CALLBACK_ALLOWED_HOSTS. */
export function hostAllowed(allowedHosts: readonly string[], hostname: string, port?: string): boolean {
  const host = hostname.toLowerCase();
  return allowedHosts.some((entry) => {
    const [, entryHost, entryPort] = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase()) ?? [];
    return entryHost === host && (entryPort === undefined || port === undefined || entryPort === port);
  });
}

/**
 * Why a callback URL is refused, or undefined: an absolute `https` URL without credentials, `http` only to an
 * allowed host, and no internal address (an IP literal, `localhost`) unless its host is allowed. Host names are
 * resolved and checked again at send time (sender.ts).
 */
export function callbackUrlProblem(raw: string, allowedHosts: readonly string[]): string | undefined {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (url.username || url.password) return 'must not contain credentials';
  const allowed = hostAllowed(allowedHosts, url.hostname, url.port || DEFAULT_PORT[url.protocol]);
  if (allowed) return undefined;
  if (url.protocol === 'http:') return 'must be https (http only to a host in CALLBACK_ALLOWED_HOSTS)';
  // A trailing dot names the same host (`localhost.` is `localhost`).
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  if (isInternalAddress(host) || host === 'localhost' || host.endsWith('.localhost')) {
    return 'must not point at an internal address (unless its host is in CALLBACK_ALLOWED_HOSTS)';
  }
  return undefined;
}
