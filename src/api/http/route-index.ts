import type { Request, Router } from 'express';

/** One route as Express matches it: upper-case method and the full path pattern ("/api/transactions/:id"). */
export interface IndexedRoute {
  method: string;
  path: string;
}

type RouteObject = { path: unknown; methods?: Record<string, boolean> };

/**
 * Every route of the routers mounted through it, by full path pattern. Metrics label requests with the pattern
 * (bounded: never the raw URL with its IDs), and the OpenAPI test checks the document against the same list.
 * Express keeps only the pattern relative to a router in `req.route`, and forgets the mount path once the
 * request leaves it (an error answered by the app's handler), so the full pattern is recorded at mount time.
 */
export class RouteIndex {
  private readonly byRoute = new Map<RouteObject, string>();
  private readonly routers = new Set<unknown>();
  private readonly patterns: { method: string; path: string; segments: string[] }[] = [];

  /** Records `router`'s routes under `mountPath` ('' for the root); call it with the router app.use() gets. */
  add(mountPath: string, router: Router): void {
    this.routers.add(router);
    for (const layer of router.stack) {
      const route = layer.route as RouteObject | undefined;
      if (!route || typeof route.path !== 'string') continue;
      const path = joinPath(mountPath, route.path);
      this.byRoute.set(route, path);
      for (const [method, on] of Object.entries(route.methods ?? {})) {
        if (on && method !== '_all') {
          this.patterns.push({ method: method.toUpperCase(), path, segments: path.split('/') });
        }
      }
    }
  }

  /** Whether `router` was recorded (a test finds routers mounted around the index). */
  has(router: unknown): boolean {
    return this.routers.has(router);
  }

  routes(): IndexedRoute[] {
    return this.patterns.map(({ method, path }) => ({ method, path }));
  }

  /**
   * The pattern of the route that answered, else of the route the method and path would have reached (a request
   * refused before routing: 401, 413, 415, 429, malformed JSON), else undefined (no such route: a 404).
   */
  patternOf(req: Request): string | undefined {
    const matched = req.route ? this.byRoute.get(req.route as RouteObject) : undefined;
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

function joinPath(mountPath: string, routePath: string): string {
  if (routePath === '/') return mountPath || '/';
  return `${mountPath.replace(/\/$/, '')}${routePath}`;
}
