import { type Framing, RtuFraming, TcpFraming } from './framing';
import { connectionLostError, openLink } from './links';
import type { BusTransport } from './transport';

/**
 * A bus's connection: a byte link (links.ts: a socket or a serial port, through their public
 * APIs) and the framing of its transport (framing.ts: Modbus TCP or RTU, our own; its header says
 * why not modbus-serial's).
 */

export { type BusTransport, describeTransport } from './transport';

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

export { connectionLostError };

/**
 * Connections with our own framing: Modbus TCP, RTU frames over TCP (transparent gateways) and
 * RTU on a serial port. What they guarantee, each found the hard way:
 * - a request's answer is only ever built from bytes received after it was written (a stray byte
 *   cannot put later answers out of step: framing.ts);
 * - on RTU framing, `discardInput` makes the connection forget the request it was waiting for, so
 *   a late answer arriving during the bus's drain is never taken for the next request;
 * - a reset or closed socket, or a serial port gone, is reported at once (`onLost`), not when the
 *   request on the wire times out;
 * - an answer's byte count must match the request, even in a frame of the right length and CRC.
 * No timeout here: the bus times requests on its clock.
 */
export function modbusConnector(transport: BusTransport): Connector {
  const serialFramed = transport.kind !== 'tcp';
  return {
    async connect(events, signal) {
      const framing: Framing = serialFramed ? new RtuFraming() : new TcpFraming();
      /** The callback of the read on the wire, until its answer is complete. */
      let waiting: ((error: Error | null, registers?: number[]) => void) | undefined;
      const link = await openLink(
        transport,
        {
          onData(chunk) {
            events.onReceive?.(chunk.length);
            if (!waiting) return;
            const outcome = framing.receive(chunk);
            if (!outcome) return;
            const done = waiting;
            waiting = undefined;
            if ('error' in outcome) done(outcome.error);
            else done(null, outcome.registers);
          },
          onLost(error) {
            waiting = undefined;
            events.onLost(error);
          },
        },
        signal,
      );
      const connection: ModbusConnection = {
        read(unitId, functionCode, address, quantity, done) {
          if (!link.open) {
            done(connectionLostError('connection closed', undefined, { kind: 'connectionClosed' }));
            return;
          }
          let request: Buffer;
          try {
            request = framing.start({ unitId, functionCode, address, quantity });
          } catch (error) {
            // A register address or count out of range: nothing goes on the wire.
            done(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          waiting = done;
          link.write(request);
        },
        async close() {
          waiting = undefined;
          await link.close();
        },
      };
      if (serialFramed) {
        connection.discardInput = () => {
          waiting = undefined;
          framing.discard();
          return true;
        };
      }
      return connection;
    },
  };
}
