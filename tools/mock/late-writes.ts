// Late writes: a POST is received, nothing is stored for lateWriteMs, then its row is written whether or not the
// client is still connected. Unlike a held answer (postWriteMode hang, which stores first), a GET meanwhile
// answers 404: what a client that timed out and looked again would see from a downstream that writes late.

/** The late writes waiting for their moment; /cleanup cancels them so that a wiped mock stays empty. */
export class LateWrites {
  /** The cancel function of each waiting write. */
  readonly #waiting = new Set<() => void>();

  /** Waits `ms`: resolves true when the row is to be written now, false when cancelAll() came first. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(cancel);
        resolve(false);
      };
      // Not tied to the request: the write lands even when the client has long gone.
      const timer = setTimeout(() => {
        this.#waiting.delete(cancel);
        resolve(true);
      }, ms);
      this.#waiting.add(cancel);
    });
  }

  /** Writes waiting now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Cancels every waiting write (none of them lands); returns how many there were. */
  cancelAll(): number {
    const cancels = [...this.#waiting];
    for (const cancel of cancels) cancel();
    return cancels.length;
  }
}
