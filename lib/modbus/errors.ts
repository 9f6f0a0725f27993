import type { ModbusFault } from '../contracts';

/** One register read as the bus carries it out. */
export interface ReadRequest {
  unitId: number;
  /** 3 = holding registers, 4 = input registers. */
  functionCode: 3 | 4;
  /** 0-based wire address of the first register. */
  address: number;
  /** Number of registers, 1 to 125. */
  quantity: number;
  /** Response timeout for this request; the bus's own otherwise. */
  timeoutMs?: number;
  /** This device needs a pause after the connection opens (slow gateways). */
  pauseAfterConnectMs?: number;
}

/**
 * Why a request failed. `timeout`, `corrupt` and the gateway exceptions count against the unit;
 * `disconnected`, `not-connected`, `closed` and the overloads (`queue-full`: refused at once;
 * `queue-timeout`: waited its longest on a connected bus) are the bus's; the rest concern the
 * request itself.
 */
export type RequestFailure =
  | 'timeout'
  | 'exception'
  | 'corrupt'
  | 'disconnected'
  | 'not-connected'
  | 'queue-full'
  | 'queue-timeout'
  | 'unit-backed-off'
  | 'closed';

/** Failures that say the bus, not the device, is the problem. */
export const BUS_FAILURES: ReadonlySet<RequestFailure> = new Set<RequestFailure>([
  'disconnected',
  'not-connected',
  'closed',
  'queue-full',
  'queue-timeout',
]);

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'device failure',
  5: 'acknowledge',
  6: 'device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target did not respond',
};

/** "exception 2 (illegal data address)". */
export function describeException(code: number): string {
  const name = EXCEPTION_NAMES[code];
  return name ? `exception ${code} (${name})` : `exception ${code}`;
}

/** "FC3 3027-3060" or "FC4 72". */
export function describeRange(functionCode: number, address: number, quantity: number): string {
  const last = address + quantity - 1;
  return `FC${functionCode} ${quantity > 1 ? `${address}-${last}` : address}`;
}

/** A read that failed; the message names the bus, the unit and the registers. */
export class ModbusRequestError extends Error {
  constructor(
    readonly failure: RequestFailure,
    readonly bus: string,
    readonly request: ReadRequest,
    readonly detail: string,
    /** The Modbus exception code when `failure` is `exception`. */
    readonly exceptionCode?: number,
    /** The same as `detail`, as data (the load manager words a meter's stale notice from it). */
    readonly fault?: ModbusFault,
  ) {
    super(
      `bus "${bus}" unit ${request.unitId}: ${describeRange(request.functionCode, request.address, request.quantity)}: ${detail}`,
    );
    this.name = 'ModbusRequestError';
  }

  /** Whether the bus (connection, overload), not the device, is the problem. */
  get busProblem(): boolean {
    return BUS_FAILURES.has(this.failure);
  }

  /** Whether the failure says something about the unit (and so counts towards its backoff). */
  get countsAgainstUnit(): boolean {
    return (
      this.failure === 'timeout' ||
      this.failure === 'corrupt' ||
      (this.failure === 'exception' && (this.exceptionCode === 10 || this.exceptionCode === 11))
    );
  }
}

/**
 * What a connection's answer to `request` means: undefined when its registers can be used, else
 * the failure: an exception the device sent (`modbusCode` on the error), or an answer that
 * cannot be used (corrupt: wrong framing, CRC, byte count or number of registers).
 */
export function answerFailure(
  bus: string,
  request: ReadRequest,
  error: Error | null,
  registers: number[] | undefined,
): ModbusRequestError | undefined {
  if (error) {
    const code = (error as { modbusCode?: unknown }).modbusCode;
    if (typeof code === 'number') {
      const fault = { kind: 'exception', code } as const;
      return new ModbusRequestError('exception', bus, request, describeException(code), code, fault);
    }
    const why = faultOf(error);
    const fault: ModbusFault = { kind: 'unusable', detail: error.message, ...(why ? { cause: why } : {}) };
    return new ModbusRequestError(
      'corrupt',
      bus,
      request,
      `unusable answer: ${error.message}`,
      undefined,
      fault,
    );
  }
  if (!registers || registers.length !== request.quantity) {
    const fault = {
      kind: 'wrongLength',
      registers: registers?.length ?? 0,
      asked: request.quantity,
    } as const;
    const detail = `answer has ${fault.registers} registers, asked for ${fault.asked}`;
    return new ModbusRequestError('corrupt', bus, request, detail, undefined, fault);
  }
  return undefined;
}

/** An error of the connection's with its failure as data (see `faultOf`). */
export function withFault<E extends Error>(error: E, fault: ModbusFault): E {
  return Object.assign(error, { fault });
}

/**
 * A connection's or a request's error as data: the fault ampflow gave it (`withFault`, a
 * ModbusRequestError's), else the system's error code (`ECONNRESET`, `ENOENT`: on the error or its
 * cause); undefined for anything else (its text is all there is).
 */
export function faultOf(error: Error | undefined): ModbusFault | undefined {
  if (!error) return undefined;
  const own = (error as { fault?: ModbusFault }).fault;
  if (own) return own;
  for (const candidate of [error, error.cause]) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return { kind: 'system', code };
  }
  return undefined;
}
