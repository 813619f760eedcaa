import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { HttpProblem } from './problem';

declare module 'express-serve-static-core' {
  interface Request {
    /** Which configured API key the request presented ("key-1" for the first), when auth is on and it matched. */
    apiClient?: string;
  }
}

const OPEN_PATHS = new Set(['/', '/api/health', '/openapi.json', '/docs']);

/**
 * Health (for load balancers and probes), the test page (GET /) and the API's documentation (its description is
 * public; a browser loading Swagger UI's files sends no key) need neither a key nor a quota. /metrics is not open.
 */
export function isOpenRoute(req: Request): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    (OPEN_PATHS.has(req.path) || req.path.startsWith('/docs/'))
  );
}

/**
 * helmet's headers (nosniff, frame denial, HSTS, referrer and cross-origin policies…). Its CSP is off: the API
 * answers JSON only, and the test page sets its own stricter CSP with the hashes of its inline code.
 */
export function securityHeaders(): RequestHandler {
  return helmet({ contentSecurityPolicy: false, frameguard: { action: 'deny' } });
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * API-key authentication, in two steps around the rate limiter: `identify` notes which key a request
 * presented (so the limiter counts per key, and per IP for everyone else), `requireKey` refuses the rest
 * with 401. Keys are compared as SHA-256 digests with timingSafeEqual, against every configured key, so
 * neither a key's content nor its length shows in the timing. A key is never logged.
 */
export function apiKeyAuth(keys: readonly string[]): {
  identify: RequestHandler;
  requireKey: RequestHandler;
} {
  const digests = keys.map(sha256);

  const identify: RequestHandler = (req, _res, next) => {
    const presented = presentedKey(req);
    if (presented !== undefined) {
      const candidate = sha256(presented);
      let match = -1;
      digests.forEach((digest, i) => {
        if (timingSafeEqual(digest, candidate) && match < 0) match = i;
      });
      if (match >= 0) req.apiClient = `key-${match + 1}`;
    }
    next();
  };

  const requireKey: RequestHandler = (req, _res, next) => {
    if (req.apiClient !== undefined || isOpenRoute(req)) {
      next();
      return;
    }
    const given = presentedKey(req) !== undefined;
    throw new HttpProblem(
      401,
      'Unauthorized',
      given
        ? 'The API key is not valid'
        : 'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      undefined,
      {
        'WWW-Authenticate': given ? 'Bearer realm="txflow", error="invalid_token"' : 'Bearer realm="txflow"',
      },
    );
  };

  return { identify, requireKey };
}

function presentedKey(req: Request): string | undefined {
  const authorization = req.get('Authorization');
  const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  return bearer ?? (req.get('X-API-Key') || undefined);
}

/**
 * At most `perMinute` requests per client and minute (fixed window, in this process's memory): the API key
 * when one was presented, else the client's IP address. Over it: 429 problem+json with Retry-After and the
 * IETF RateLimit headers. Health and the test page are not counted.
 */
export function rateLimiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: isOpenRoute,
    keyGenerator: (req) => req.apiClient ?? ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown'),
    // The library has set Retry-After already; the answer goes through the one error handler.
    handler: (_req, _res, next) => {
      next(
        new HttpProblem(
          429,
          'Too many requests',
          `At most ${perMinute} requests per minute per client; retry after Retry-After seconds`,
        ),
      );
    },
  });
}
