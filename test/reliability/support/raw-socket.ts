import { WebSocket } from 'ws';

/**
 * A raw WebSocket as a charger, to send frames no OCPP library would produce, with the frames it
 * receives queued so a test can take them one by one.
 */
export class RawCharger {
  private readonly received: string[] = [];
  private waiting: ((message: string | undefined) => void) | undefined;
  closed: { code: number; reason: string } | undefined;
  readonly whenClosed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(text);
      } else this.received.push(text);
    });
    this.whenClosed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString() };
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.(undefined);
        resolve(this.closed);
      });
    });
    // A failed connection is reported through 'close' too.
    ws.on('error', () => undefined);
  }

  /** Connects as `identity`, offering only `protocol` (OCPP-J 1.6 unless told). */
  static async open(url: string, identity: string, protocol = 'ocpp1.6'): Promise<RawCharger> {
    const ws = new WebSocket(`${url}${encodeURIComponent(identity)}`, [protocol]);
    const charger = new RawCharger(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error(`${identity}: the handshake was refused`)));
      ws.once('error', reject);
    });
    if (ws.protocol !== protocol) {
      ws.terminate();
      throw new Error(`${identity}: got sub-protocol "${ws.protocol}", not ${protocol}`);
    }
    return charger;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The next frame received; rejects when the connection closes or nothing comes in `timeoutMs`. */
  next(timeoutMs = 5000): Promise<string> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error(`connection closed (${this.closed.code})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (message) => {
        clearTimeout(timer);
        if (message === undefined) reject(new Error(`connection closed (${this.closed?.code})`));
        else resolve(message);
      };
    });
  }

  /** Sends `frame` and returns the next frame received. */
  ask(frame: string): Promise<string> {
    this.send(frame);
    return this.next();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.terminate();
    await this.whenClosed;
  }
}
