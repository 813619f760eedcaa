export interface FieldError {
  field: string;
  message: string;
}

/** An error answered as RFC 9457 problem+json; nothing internal goes into it. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
    /** Extension members of the problem body, e.g. `transaction_id`. */
    readonly extensions: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const validationProblem = (errors: FieldError[]) =>
  new HttpProblem(400, 'Invalid request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);

export const notFound = (what: string) => new HttpProblem(404, 'Not found', `${what} does not exist`);

export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
