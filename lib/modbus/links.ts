import { connect, type Socket } from 'node:net';
import type { ModbusFault } from '../contracts';
import { withFault } from './errors';
import { endReadsAtHangUp } from './serial-hangup';
import type { BusTransport } from './transport';

/**
 * Byte links a Modbus connection runs over: a TCP socket (`node:net`) for Modbus TCP and RTU over
 * TCP, a serial port (`serialport`) for RTU. Only their public APIs, but for the serial port's
 * read, which must end when the port hangs up (serial-hangup.ts). A link moves bytes and says
 * when it breaks; framing is framing.ts's, timing the bus's.
 */

/** What a link reports while it is open. */
export interface LinkEvents {
  /** Every chunk of bytes received. */
  onData(chunk: Buffer): void;
  /** Called at most once, when the link breaks (closed or reset by the other side, port gone). */
  onLost(error: Error): void;
}

/** An open link. */
export interface ByteLink {
  /** Whether bytes can still be written (false once broken or closed). */
  readonly open: boolean;
  write(bytes: Buffer): void;
  /** Closes at once; never rejects. After it, no event is reported. */
  close(): Promise<void>;
}

/**
 * Opens the link `transport` names. `signal` aborts a connect in progress (the bus times
 * connects on its own clock).
 */
export function openLink(
  transport: BusTransport,
  events: LinkEvents,
  signal: AbortSignal,
): Promise<ByteLink> {
  return transport.kind === 'rtu'
    ? openSerialLink(transport, events, signal)
    : openSocketLink(transport, events, signal);
}

/** A link's life: data is reported while it is open, `onLost` at most once, nothing once ended. */
class LinkState {
  private phase: 'opening' | 'open' | 'ended' = 'opening';

  constructor(private readonly events: LinkEvents) {}

  get open(): boolean {
    return this.phase === 'open';
  }

  /** Connected: events flow from now on (unless it already ended). */
  opened(): void {
    if (this.phase === 'opening') this.phase = 'open';
  }

  data(chunk: Buffer): void {
    if (this.phase === 'open') this.events.onData(chunk);
  }

  lost(error: Error): void {
    if (this.phase !== 'open') return;
    this.phase = 'ended';
    this.events.onLost(error);
  }

  /** Closed on our side: no events from now on. */
  end(): void {
    this.phase = 'ended';
  }
}

function openSocketLink(
  transport: Extract<BusTransport, { kind: 'tcp' | 'rtu-over-tcp' }>,
  events: LinkEvents,
  signal: AbortSignal,
): Promise<ByteLink> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('connect aborted'));
      return;
    }
    const state = new LinkState(events);
    const socket: Socket = connect({ host: transport.host, port: transport.port });
    const abort = () => {
      socket.destroy();
      reject(new Error('connect aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    // Before the connect: rejects it (refused, unreachable). After: the socket is gone (a reset).
    socket.on('error', (error) => {
      signal.removeEventListener('abort', abort);
      reject(error);
      state.lost(connectionLostError(error.message, error));
    });
    // Also when the other side closes cleanly; a reset alone shows as an error, then a close.
    socket.on('close', () =>
      state.lost(
        connectionLostError('connection closed by the other side', undefined, { kind: 'closedByPeer' }),
      ),
    );
    socket.on('data', (chunk: Buffer) => state.data(chunk));
    socket.once('connect', () => {
      signal.removeEventListener('abort', abort);
      // A request is one small segment: send it now, not when the last one is acknowledged.
      socket.setNoDelay(true);
      // Turns a half-open connection (gateway rebooted) into a socket error eventually.
      if (transport.kind === 'tcp') socket.setKeepAlive(true, 10000);
      state.opened();
      resolve({
        get open() {
          return state.open && !socket.destroyed;
        },
        write: (bytes) => socket.write(bytes),
        close: async () => {
          state.end();
          socket.destroy();
        },
      });
    });
  });
}

async function openSerialLink(
  transport: Extract<BusTransport, { kind: 'rtu' }>,
  events: LinkEvents,
  signal: AbortSignal,
): Promise<ByteLink> {
  // Loaded only for serial buses: its native binding is not needed for Modbus TCP.
  const { SerialPort } = await import('serialport');
  const state = new LinkState(events);
  const port = new SerialPort({
    path: transport.path,
    baudRate: transport.baudRate,
    dataBits: transport.dataBits,
    parity: transport.parity,
    stopBits: transport.stopBits,
    autoOpen: false,
  });
  // A serial port reports errors as events; without a listener they would crash the process.
  port.on('error', (error: Error) => state.lost(connectionLostError(error.message, error)));
  port.on('close', () =>
    state.lost(connectionLostError('serial port closed', undefined, { kind: 'portClosed' })),
  );
  // Before the stream's first read, which it issues on 'open' too.
  port.once('open', () => endReadsAtHangUp(port.port));
  port.on('data', (chunk: Buffer) => state.data(chunk));
  const close = () =>
    new Promise<void>((resolve) => {
      state.end();
      if (port.isOpen) port.close(() => resolve());
      else resolve();
    });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  if (signal.aborted) {
    await close();
    throw new Error('connect aborted');
  }
  state.opened();
  return {
    get open() {
      return state.open && port.isOpen;
    },
    write: (bytes) => {
      port.write(bytes, (error) => {
        if (error) state.lost(connectionLostError(error.message, error));
      });
    },
    close,
  };
}

/** An error that means the connection itself is gone, not that a device answered badly. */
export function connectionLostError(message: string, cause?: unknown, fault?: ModbusFault): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  (error as Error & { connectionLost: boolean }).connectionLost = true;
  return fault ? withFault(error, fault) : error;
}
