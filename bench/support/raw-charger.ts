/**
 * A charger reduced to what a load generator needs: one `ws` WebSocket speaking OCPP-J 1.6 frames
 * by hand. Every reply is still checked (message type, id, and the fields the answer must carry),
 * but nothing is validated against the schemas: on a 2-core machine a validating simulator would
 * saturate a core before the server does, and 10,000 full simulators would not fit in memory.
 */
import WebSocket from 'ws';

export type ReplyCheck = (payload: unknown) => string | undefined;

/** What each charge-point message's answer must look like; a string names what is wrong. */
export const CHECKS: Record<string, ReplyCheck> = {
  BootNotification: (p) => {
    const reply = p as { status?: unknown; interval?: unknown; currentTime?: unknown };
    if (reply?.status !== 'Accepted') return `status ${JSON.stringify(reply?.status)}, expected Accepted`;
    if (typeof reply.interval !== 'number') return 'no interval';
    if (typeof reply.currentTime !== 'string') return 'no currentTime';
    return undefined;
  },
  Heartbeat: (p) =>
    typeof (p as { currentTime?: unknown })?.currentTime === 'string' ? undefined : 'no currentTime',
  MeterValues: (p) =>
    p && typeof p === 'object' && Object.keys(p).length === 0
      ? undefined
      : `expected {}, got ${JSON.stringify(p)}`,
  StartTransaction: (p) => {
    const reply = p as { transactionId?: unknown; idTagInfo?: { status?: unknown } };
    if (typeof reply?.transactionId !== 'number') return 'no transactionId';
    if (reply.idTagInfo?.status !== 'Accepted') return `idTagInfo ${JSON.stringify(reply.idTagInfo)}`;
    return undefined;
  },
  StatusNotification: (p) =>
    p && typeof p === 'object' && Object.keys(p).length === 0
      ? undefined
      : `expected {}, got ${JSON.stringify(p)}`,
};

export const BOOT_NOTIFICATION = { chargePointVendor: 'ampflow-bench', chargePointModel: 'raw-ws' };

/**
 * A MeterValues request as a three-phase charger sends it every sample interval: energy, power and
 * current and voltage per phase (8 sampled values).
 */
export function meterValues(
  connectorId: number,
  energyWh: number,
  transactionId?: number,
): Record<string, unknown> {
  const phase = (measurand: string, unit: string, value: number, p: string) => ({
    value: value.toFixed(1),
    measurand,
    unit,
    phase: p,
    context: 'Sample.Periodic',
    location: 'Outlet',
  });
  return {
    connectorId,
    ...(transactionId === undefined ? {} : { transactionId }),
    meterValue: [
      {
        timestamp: new Date().toISOString(),
        sampledValue: [
          {
            value: energyWh.toFixed(0),
            measurand: 'Energy.Active.Import.Register',
            unit: 'Wh',
            context: 'Sample.Periodic',
            location: 'Outlet',
          },
          { value: '11040', measurand: 'Power.Active.Import', unit: 'W', context: 'Sample.Periodic' },
          phase('Current.Import', 'A', 16, 'L1'),
          phase('Current.Import', 'A', 16, 'L2'),
          phase('Current.Import', 'A', 16, 'L3'),
          phase('Voltage', 'V', 230, 'L1-N'),
          phase('Voltage', 'V', 230, 'L2-N'),
          phase('Voltage', 'V', 230, 'L3-N'),
        ],
      },
    ],
  };
}

/** Failures and server-initiated calls seen by all raw chargers of this process. */
export const rawStats = { badReplies: 0, callErrors: 0, serverCalls: 0, lastProblem: '' };

export class RawCharger {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private pending:
    | { id: string; action: string; resolve: (payload: unknown) => void; reject: (err: Error) => void }
    | undefined;
  energyWh = 0;
  /** MeterValues answered (and checked) so far. */
  meterValuesAnswered = 0;
  /** Its transaction, once `startTransaction` was answered. */
  transactionId: number | undefined;

  constructor(
    readonly url: string,
    readonly identity: string,
  ) {}

  /** Opens the WebSocket (sub-protocol ocpp1.6); rejects with the HTTP status when refused. */
  open(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${this.url}${encodeURIComponent(this.identity)}`, 'ocpp1.6', {
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
      });
      this.socket = socket;
      socket.once('open', () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.fail(err));
        resolve();
      });
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`${this.identity}: refused with HTTP ${res.statusCode}`)),
      );
      socket.on('message', (data) => this.onMessage(data.toString()));
      socket.once('close', () => this.fail(new Error(`${this.identity}: connection closed`)));
    });
  }

  /** A call is in flight (OCPP-J allows one at a time). */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends one CALL and resolves with its checked CALLRESULT payload (one call in flight, as OCPP-J asks). */
  call(action: string, payload: unknown, timeoutMs = 60_000): Promise<unknown> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN)
      return Promise.reject(new Error(`${this.identity}: not connected`));
    if (this.pending) return Promise.reject(new Error(`${this.identity}: a call is already in flight`));
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`${this.identity}: no answer to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        id,
        action,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      socket.send(JSON.stringify([2, id, action, payload]));
    });
  }

  /** Sends a MeterValues (of its transaction, once it started one) and checks its answer. */
  async sendMeterValues(): Promise<void> {
    this.energyWh += 15;
    await this.call('MeterValues', meterValues(1, this.energyWh, this.transactionId));
    this.meterValuesAnswered += 1;
  }

  /** Starts a transaction on connector 1: its MeterValues carry its id from then on. */
  async startTransaction(): Promise<void> {
    const reply = (await this.call('StartTransaction', {
      connectorId: 1,
      idTag: 'BENCH',
      meterStart: this.energyWh,
      timestamp: new Date().toISOString(),
    })) as { transactionId: number };
    this.transactionId = reply.transactionId;
  }

  /** Closes without the closing handshake (fast for thousands of sockets). */
  terminate(): void {
    this.socket?.terminate();
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private onMessage(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.problem(`unreadable frame ${text.slice(0, 80)}`);
      return;
    }
    if (!Array.isArray(frame)) {
      this.problem(`not an OCPP-J frame: ${text.slice(0, 80)}`);
      return;
    }
    const [type, id] = frame as [number, string];
    if (type === 2) {
      // A server-initiated call: the benchmarks configure servers that send none; answer anyway.
      rawStats.serverCalls += 1;
      this.socket?.send(JSON.stringify([4, id, 'NotImplemented', 'bench charger', {}]));
      return;
    }
    const pending = this.pending;
    if (!pending || pending.id !== id) {
      this.problem(`answer to unknown call ${id}`);
      return;
    }
    this.pending = undefined;
    if (type === 4) {
      rawStats.callErrors += 1;
      pending.reject(
        new Error(`${this.identity}: ${pending.action} answered with CALLERROR ${text.slice(0, 200)}`),
      );
      return;
    }
    if (type !== 3) {
      pending.reject(new Error(`${this.identity}: unexpected frame type ${type}`));
      return;
    }
    const wrong = CHECKS[pending.action]?.(frame[2]);
    if (wrong) {
      rawStats.badReplies += 1;
      rawStats.lastProblem = `${this.identity} ${pending.action}: ${wrong}`;
      pending.reject(new Error(rawStats.lastProblem));
      return;
    }
    pending.resolve(frame[2]);
  }

  private problem(message: string): void {
    rawStats.badReplies += 1;
    rawStats.lastProblem = `${this.identity}: ${message}`;
  }
}

/** Opens the charger and boots it (BootNotification answered Accepted). */
export async function connectAndBoot(charger: RawCharger): Promise<void> {
  await charger.open();
  await charger.call('BootNotification', BOOT_NOTIFICATION);
}
