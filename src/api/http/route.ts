import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { requireJson, validate, validateBody } from './validate';

/** A schema with the name it has under `components.schemas`. */
export interface Named<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
}

export interface ResponseDoc {
  description: string;
  /** Media type → body schema; null where the body is not described by a schema (HTML, Prometheus text). */
  content?: Record<string, Named | null>;
  /** Header name → what it says. */
  headers?: Record<string, string>;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What the OpenAPI document says of a route: everything of its declaration but the handler. */
export interface RouteDoc {
  method: Method;
  /** The Express pattern: "/api/transactions/:id". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Needs no API key even when API_KEYS is set (health, the test page, the documentation). */
  open?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Documented only: a header's rules may involve the body (Idempotency-Key), so the handler checks it. */
  headers?: z.ZodObject;
  body?: Named;
  responses: Record<string, ResponseDoc>;
}

/** One route, declared once: the app registers `handle` under `method` and `path`, the document reads the rest. */
export interface RouteDeclaration extends RouteDoc {
  handle: RequestHandler;
}

/** The request's parts as the route's schemas parsed them. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

type Empty = z.ZodObject<Record<never, never>>;

export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType> extends Omit<
  RouteDoc,
  'params' | 'query' | 'body'
> {
  params?: P;
  query?: Q;
  body?: Named<B>;
  /** Top-level body members whose JSON numbers must be read exactly (see validateBody). */
  exactNumbers?: ReadonlySet<string>;
  handler: (
    input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>,
    req: Request,
    res: Response,
    next: NextFunction,
  ) => void | Promise<void>;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Declares a route. Its handler gets the path parameters, query and JSON body already checked against the
 * very schemas the document shows; a failure is a 400 naming each field (415 for a body not JSON), as before
 * any handler runs. Express 5 passes a rejected promise to the error handler.
 */
export function route<
  P extends z.ZodObject = Empty,
  Q extends z.ZodObject = Empty,
  B extends z.ZodType = z.ZodUnknown,
>(spec: RouteSpec<P, Q, B>): RouteDeclaration {
  const { handler, exactNumbers = NONE, ...doc } = spec;
  const handle: RequestHandler = async (req, res, next) => {
    const params = spec.params ? validate(spec.params, req.params, 'path') : {};
    const query = spec.query ? validate(spec.query, { ...req.query }, 'query') : {};
    let body: unknown;
    if (spec.body) {
      requireJson(req);
      body = validateBody(spec.body.schema, req, exactNumbers);
    }
    const input = { params, query, body } as RouteInput<z.output<P>, z.output<Q>, z.output<B>>;
    await handler(input, req, res, next);
  };
  return { ...doc, handle };
}
