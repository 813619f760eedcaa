import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { verifySignature } from '../../src/callbacks/signature';
import { freePort } from '../../tools/shared/ports';

/** What the receiver does with the next deliveries: counters count down, one per delivery. */
export interface ReceiverFaults {
  /** Answer 503 to this many. */
  fail5xx?: number;
  /** Never answer this many (past any timeout). */
  hang?: number;
  /** Answer 410 Gone to every delivery. */
  gone?: boolean;
}

/** One request the receiver got, and its answer. */
export interface ReceivedDelivery {
  path: string;
  eventId: string | undefined;
  signature: string | undefined;
  body: string;
  /** The signature verified with the receiver's secret, within 5 minutes. */
  verified: boolean;
  answered: number | 'hang';
}

/**
 * A callback receiver as a real process (this file, forked), on a fixed loopback port so it can be switched
 * off (connections refused) and on again. The parent keeps the record and the fault counters across restarts.
 */
export class CallbackReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private faults: Required<ReceiverFaults> = { fail5xx: 0, hang: 0, gone: false };
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly secret: string,
  ) {}

  static async start(secret: string): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver(await freePort(), secret);
    await receiver.on();
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The deliveries answered 2xx, of one event if given. */
  delivered(eventId?: string): ReceivedDelivery[] {
    return this.deliveries.filter(
      (d) =>
        typeof d.answered === 'number' &&
        d.answered < 300 &&
        (eventId === undefined || d.eventId === eventId),
    );
  }

  setFaults(faults: ReceiverFaults): void {
    this.faults = { fail5xx: 0, hang: 0, gone: false, ...faults };
    if (this.child?.connected) this.child.send(this.faults);
  }

  /** Starts the process, listening once this resolves. */
  async on(): Promise<void> {
    if (this.child) return;
    const child = fork(__filename, [], {
      env: { ...process.env, RECEIVER_PORT: String(this.port), RECEIVER_SECRET: this.secret },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (message: { delivery?: ReceivedDelivery }) => {
      const { delivery } = message;
      if (!delivery) return;
      this.deliveries.push(delivery);
      // The counters live here too, so that a restarted process goes on where this one stopped.
      if (delivery.answered === 'hang') this.faults.hang -= 1;
      else if (delivery.answered === 503) this.faults.fail5xx -= 1;
    });
    child.send(this.faults);
    const ready = await Promise.race([
      once(child, 'message').then(([m]) => (m as { ready?: boolean }).ready === true),
      once(child, 'exit').then(() => false),
    ]);
    if (!ready) throw new Error(`the receiver did not start on port ${this.port}`);
  }

  /** Kills the process: connections are refused until on(). */
  async off(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.off();
    await this.on();
  }
}

// The process itself.
if (require.main === module) {
  let faults: Required<ReceiverFaults> = { fail5xx: 0, hang: 0, gone: false };
  const secret = process.env.RECEIVER_SECRET ?? '';
  process.on('message', (message: Required<ReceiverFaults>) => (faults = message));
  // Never outlives the test process.
  process.on('disconnect', () => process.exit(0));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['txflow-signature'] as string | undefined;
      let answered: number | 'hang' = 200;
      if (faults.gone) answered = 410;
      else if (faults.hang > 0) {
        faults.hang -= 1;
        answered = 'hang';
      } else if (faults.fail5xx > 0) {
        faults.fail5xx -= 1;
        answered = 503;
      }
      const delivery: ReceivedDelivery = {
        path: req.url ?? '',
        eventId: req.headers['txflow-event-id'] as string | undefined,
        signature,
        body,
        verified: verifySignature(secret, signature, body),
        answered,
      };
      process.send?.({ delivery });
      if (answered !== 'hang') res.writeHead(answered).end();
    });
  });
  server.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', () => process.send?.({ ready: true }));
}
