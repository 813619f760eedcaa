import { Router, type Express, type Request } from 'express';
import type { RouteDeclaration } from './route';

/** One route as Express matches it: upper-case method and the full path pattern ("/api/transactions/:id"). */
export interface IndexedRoute {
  method: string;
  path: string;
}

/**
 * The app's declared routes, by full path pattern. Metrics label requests with the pattern (bounded: never the
 * raw URL with its IDs). `register` notes which route answered a request, so the label is exact even for a URL
 * Express matched loosely (a trailing slash, other letter case) and an error the app's handler answered.
 */
export class RouteIndex {
  private readonly answered = new WeakMap<Request, string>();
  private readonly patterns: { method: string; path: string; segments: string[] }[];

  constructor(readonly declarations: readonly RouteDeclaration[]) {
    this.patterns = declarations.map(({ method, path }) => ({
      method: method.toUpperCase(),
      path,
      segments: path.split('/'),
    }));
  }

  /**
   * Registers every declared route on `app`, in declaration order, through one router: at the end of its routes a
   * router answers OPTIONS for a known path itself (200 with `Allow`), before the app's 404 handler.
   */
  register(app: Express): void {
    const router = Router();
    for (const declaration of this.declarations) {
      const { path } = declaration;
      router[declaration.method](
        path,
        (req, _res, next) => {
          this.answered.set(req, path);
          next();
        },
        declaration.handle,
      );
    }
    app.use(router);
  }

  routes(): IndexedRoute[] {
    return this.patterns.map(({ method, path }) => ({ method, path }));
  }

  /**
   * The pattern of the route that answered, else of the route the method and path would have reached (a request
   * refused before routing: 401, 413, 415, 429, malformed JSON), else undefined (no such route: a 404).
   */
  patternOf(req: Request): string | undefined {
    const matched = this.answered.get(req);
    if (matched !== undefined) return matched;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const segments = req.path.split('/');
    return this.patterns.find(
      (p) =>
        p.method === method &&
        p.segments.length === segments.length &&
        p.segments.every((s, i) => (s.startsWith(':') ? segments[i] !== '' : s === segments[i])),
    )?.path;
  }
}
