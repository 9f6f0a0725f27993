import ModbusRTU from 'modbus-serial';

/** How a bus reaches its devices. */
export type BusTransport =
  | { kind: 'tcp'; host: string; port: number }
  /** Raw RTU frames (with CRC) over a TCP socket: serial gateways in transparent mode. */
  | { kind: 'rtu-over-tcp'; host: string; port: number }
  | {
      kind: 'rtu';
      path: string;
      baudRate: number;
      dataBits: 7 | 8;
      parity: 'none' | 'even' | 'odd';
      stopBits: 1 | 2;
    };

export function describeTransport(transport: BusTransport): string {
  switch (transport.kind) {
    case 'tcp':
      return `tcp://${transport.host}:${transport.port}`;
    case 'rtu-over-tcp':
      return `rtu-over-tcp://${transport.host}:${transport.port}`;
    case 'rtu': {
      const parity = transport.parity === 'none' ? 'N' : transport.parity === 'even' ? 'E' : 'O';
      return `${transport.path} ${transport.baudRate} ${transport.dataBits}${parity}${transport.stopBits}`;
    }
  }
}

/** An open connection that carries one request at a time (the bus makes sure of that). */
export interface ModbusConnection {
  /**
   * Sends one read and calls `done` once with the registers or an error. Errors from the device
   * carry `modbusCode` (exceptions); connection errors carry `connectionLost: true`.
   */
  read(
    unitId: number,
    functionCode: 3 | 4,
    address: number,
    quantity: number,
    done: (error: Error | null, registers?: number[]) => void,
  ): void;
  /**
   * Serial-framed transports (RTU, RTU over TCP), whose answers carry no transaction id: drops
   * whatever was received but not yet taken as an answer, so that nothing already on its way can
   * be matched to the next request. Returns false when it cannot (the bus then reopens the
   * connection instead). Absent on Modbus TCP, whose transaction ids tell answers apart.
   */
  discardInput?(): boolean;
  /** Closes at once; never rejects. */
  close(): Promise<void>;
}

/** What a connection reports to its bus while it is open. */
export interface ConnectionEvents {
  /**
   * Called at most once, when the connection breaks (socket closed or reset, serial port gone).
   */
  onLost(error: Error): void;
  /** Called for every chunk of bytes received, answer or not: tells the bus the line is busy. */
  onReceive?(bytes: number): void;
}

/** Opens connections for a bus; the bus decides when (and when again). */
export interface Connector {
  /**
   * Resolves with an open connection. `events.onLost` is called at most once, when that
   * connection breaks afterwards. `signal` aborts a connect in progress.
   */
  connect(events: ConnectionEvents, signal: AbortSignal): Promise<ModbusConnection>;
}

/** Errors that mean the connection itself is gone, not the device's answer. */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'ERR_STREAM_DESTROYED',
]);

export function connectionLostError(message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  (error as Error & { connectionLost: boolean }).connectionLost = true;
  return error;
}

interface ModbusSerialError extends Error {
  errno?: string;
  code?: string;
  modbusCode?: number;
}

/** Tells a connection failure from a device's answer in what modbus-serial reports. */
function classify(error: ModbusSerialError): Error {
  if (typeof error.modbusCode === 'number') return error;
  // modbus-serial reports "Port Not Open" with errno ECONNREFUSED when the port has closed.
  if (
    error.name === 'PortNotOpenError' ||
    (typeof error.errno === 'string' && CONNECTION_ERRNOS.has(error.errno)) ||
    (typeof error.code === 'string' && CONNECTION_ERRNOS.has(error.code))
  ) {
    return connectionLostError(error.message || 'connection lost', error);
  }
  return error;
}

/**
 * The modbus-serial internals (8.0.x) ampflow needs and its typings do not show: the port object
 * (`TcpPort`, `TelnetPort`, `RTUBufferedPort`), its receive buffer and the state that matches
 * received bytes to the request last written, and the socket or serial port underneath.
 * `test/unit/modbus/connection_spec.ts` fails when an upgrade renames them.
 */
export interface PortInternals {
  on(event: string, listener: (...args: unknown[]) => void): void;
  destroy?: () => void;
  /** RTU framing: bytes received and not yet emitted as a frame. */
  _buffer?: Buffer;
  /** RTU framing: unit id, function code and length of the answer expected. */
  _id?: number;
  _cmd?: number;
  _length?: number | string;
  /** Modbus TCP: bytes received and not yet cut into MBAP frames. */
  _clientRcvData?: Buffer;
  /** The net.Socket or SerialPort underneath. */
  _client?: { on(event: string, listener: (...args: unknown[]) => void): void };
}

interface ClientInternals {
  _port?: PortInternals;
}

/**
 * Forgets what an RTU-framing port received and what answer it expects: bytes already in its
 * buffer, and the unit, function code and length a late frame would be matched against. Until
 * the next request is written, nothing received is emitted as an answer. False when the port
 * does not look as expected (another modbus-serial version).
 */
export function discardRtuInput(port: PortInternals | undefined): boolean {
  if (!port || !Buffer.isBuffer(port._buffer) || typeof port._length !== 'number') return false;
  port._buffer = Buffer.alloc(0);
  // A length below the shortest frame makes the port buffer bytes without emitting any.
  port._id = 0;
  port._cmd = 0;
  port._length = 0;
  return true;
}

/**
 * Forgets what a Modbus TCP port received and has not yet cut into a frame. modbus-serial cuts
 * frames by the MBAP length field, so one stray byte (a truncated answer, noise from a gateway)
 * puts every later answer out of step, and a bogus length makes it wait for up to 64 KiB: the
 * bus would time out on every request for as long as the connection lasts. The bus sends one
 * request at a time, so nothing received before a request is written can be its answer.
 * False when the port does not look as expected (another modbus-serial version).
 */
export function discardTcpInput(port: PortInternals | undefined): boolean {
  if (!port || !Buffer.isBuffer(port._clientRcvData)) return false;
  if (port._clientRcvData.length > 0) port._clientRcvData = Buffer.alloc(0);
  return true;
}

/**
 * Connections through modbus-serial: `connectTCP` (Modbus TCP), `connectTelnet` (RTU frames over
 * TCP) and `connectRTUBuffered` (serial port). A new client per connection, because modbus-serial's
 * TCP port drops every listener when it closes. Requests are sent with the unit id as an argument
 * (`writeFC3/4`), never through the client-wide `setID`. modbus-serial's own timeout stays off:
 * the bus times requests on its clock.
 */
export function modbusSerialConnector(transport: BusTransport): Connector {
  const serialFramed = transport.kind !== 'tcp';
  return {
    async connect(events, signal) {
      const client = new ModbusRTU();
      const internals = client as unknown as ClientInternals;
      let open = false;
      let lost = false;
      const markLost = (error: Error) => {
        if (!open || lost) return;
        lost = true;
        events.onLost(error);
      };
      // A serial port reports errors as events; without a listener they would crash the process.
      client.on('error', (error: unknown) =>
        markLost(connectionLostError(error instanceof Error ? error.message : String(error), error)),
      );
      client.on('close', () => markLost(connectionLostError('connection closed by the other side')));

      const destroy = () =>
        new Promise<void>((resolve) => {
          try {
            if (transport.kind === 'rtu') {
              if (client.isOpen) client.close(() => resolve());
              else resolve();
            } else {
              client.destroy(() => resolve());
            }
          } catch {
            resolve();
          }
        });

      let opening: Promise<void>;
      switch (transport.kind) {
        case 'tcp':
          opening = client.connectTCP(transport.host, {
            port: transport.port,
            // Turns a half-open connection (gateway rebooted) into a socket error eventually.
            keepAlive: true,
            keepAliveInitialDelay: 10000,
          });
          break;
        case 'rtu-over-tcp':
          opening = client.connectTelnet(transport.host, { port: transport.port });
          break;
        case 'rtu':
          opening = client.connectRTUBuffered(transport.path, {
            baudRate: transport.baudRate,
            dataBits: transport.dataBits,
            parity: transport.parity,
            stopBits: transport.stopBits,
          });
          break;
      }
      const port = internals._port;
      // The port exists now; listen to it before modbus-serial does (it only does once open).
      port?.on('error', () => undefined);
      // modbus-serial's TCP port clears its open flag on a socket error (a reset) and then never
      // reports the close: watch the socket itself, or a reset would go unnoticed until the
      // request on the wire timed out.
      const socket = port?._client;
      if (socket && transport.kind !== 'rtu') {
        socket.on('error', (error: unknown) =>
          markLost(connectionLostError(error instanceof Error ? error.message : String(error), error)),
        );
        socket.on('close', () => markLost(connectionLostError('connection closed by the other side')));
      }
      socket?.on('data', (chunk: unknown) => {
        if (open && !lost) events.onReceive?.(Buffer.isBuffer(chunk) ? chunk.length : 0);
      });
      const abort = () => void destroy();
      signal.addEventListener('abort', abort, { once: true });
      try {
        await opening;
      } catch (error) {
        await destroy();
        throw error instanceof Error ? error : new Error(String(error));
      } finally {
        signal.removeEventListener('abort', abort);
      }
      if (signal.aborted) {
        await destroy();
        throw new Error('connect aborted');
      }
      open = true;

      const connection: ModbusConnection = {
        read(unitId, functionCode, address, quantity, done) {
          const callback = (
            error: ModbusSerialError | null,
            result?: { data: number[]; buffer?: Buffer },
          ) => {
            if (error) {
              done(classify(error));
              return;
            }
            // The byte count must match the request (modbus-serial checks only the frame length).
            const bytes = result?.buffer?.length;
            if (bytes !== undefined && bytes !== 2 * quantity) {
              done(new Error(`byte count ${bytes}, expected ${2 * quantity}`));
              return;
            }
            done(null, result?.data ?? []);
          };
          // Found by test/reliability/fuzz-modbus_spec.ts: see discardTcpInput.
          if (transport.kind === 'tcp') discardTcpInput(internals._port);
          try {
            if (functionCode === 3) client.writeFC3(unitId, address, quantity, callback as never);
            else client.writeFC4(unitId, address, quantity, callback as never);
          } catch (error) {
            done(classify(error as ModbusSerialError));
          }
        },
        async close() {
          open = false;
          await destroy();
        },
      };
      if (serialFramed) connection.discardInput = () => discardRtuInput(internals._port);
      return connection;
    },
  };
}
