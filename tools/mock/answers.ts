import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';

/** An injected failure: the status and its standard text. */
export function failure(res: Response, status: number): void {
  res.status(status).json({ error: STATUS_CODES[status] ?? 'error' });
}

/** Holds the response for `ms`, then answers 504; gives up at once if the client goes away. */
export function hold(res: Response, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      if (!res.destroyed) failure(res, 504);
      resolve();
    }, ms);
    res.once('close', onClose);
  });
}
