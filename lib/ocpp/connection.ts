import { EventEmitter } from 'node:events';
import { TimeoutError } from 'ocpp-rpc';
import type RPCServerClient from 'ocpp-rpc/lib/server-client';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';
import type { OcppAction, OcppRequest, OcppResponse } from './messages';
import { findViolation, isOcppAction, ocppError, type Violation, violationError } from './validation';

/** Actions a charge point sends to the central system (OCPP 1.6 plus the security extension). */
export const CHARGE_POINT_ACTIONS = [
  'Authorize',
  'BootNotification',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StartTransaction',
  'StatusNotification',
  'StopTransaction',
  'SecurityEventNotification',
  'SignCertificate',
  'LogStatusNotification',
  'SignedFirmwareStatusNotification',
] as const satisfies readonly OcppAction[];
export type ChargePointAction = (typeof CHARGE_POINT_ACTIONS)[number];

/** Actions the central system sends to a charge point. */
export const CENTRAL_SYSTEM_ACTIONS = [
  'CancelReservation',
  'ChangeAvailability',
  'ChangeConfiguration',
  'ClearCache',
  'ClearChargingProfile',
  'DataTransfer',
  'GetCompositeSchedule',
  'GetConfiguration',
  'GetDiagnostics',
  'GetLocalListVersion',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ReserveNow',
  'Reset',
  'SendLocalList',
  'SetChargingProfile',
  'TriggerMessage',
  'UnlockConnector',
  'UpdateFirmware',
  'ExtendedTriggerMessage',
  'CertificateSigned',
  'InstallCertificate',
  'DeleteCertificate',
  'GetInstalledCertificateIds',
  'GetLog',
  'SignedUpdateFirmware',
] as const satisfies readonly OcppAction[];
export type CentralSystemAction = (typeof CENTRAL_SYSTEM_ACTIONS)[number];

const chargePointActions = new Set<string>(CHARGE_POINT_ACTIONS);
const centralSystemActions = new Set<string>(CENTRAL_SYSTEM_ACTIONS);

export function isCentralSystemAction(action: string): action is CentralSystemAction {
  return centralSystemActions.has(action);
}

/** Per-charger behaviour the operator can set. */
export interface ChargePointOptions {
  /** Log schema violations of this charger and carry on, instead of answering with a CallError. */
  lenient: boolean;
  /** WebSocket ping interval in s; 0 switches pings off (some chargers never answer them). */
  pingIntervalS: number;
}

export interface ConnectionOptions {
  identity: string;
  client: RPCServerClient;
  chargePoint: ChargePointOptions;
  clock: Clock;
  log: Logger;
  callTimeoutMs: number;
  /** Whether the charger is accepted (its last BootNotification answer); decides errata 3.8. */
  isAccepted(): boolean;
  /** Answers one charge-point-initiated call; throws an ocppError to answer with a CallError. */
  handle(action: ChargePointAction, request: unknown, connection: ChargePointConnection): Promise<unknown>;
  /** No frame for this long means the connection is dead (a generous multiple of the heartbeat). */
  deadAfterMs(): number;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: 'Offline' | 'Timeout' | 'CallError' | 'InvalidRequest' | 'InvalidResponse',
    readonly ocppErrorCode?: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/**
 * One charge point's WebSocket session. Validates what comes in (strictly, or leniently for
 * chargers with known deviations), gates calls before the charger is accepted (OCPP-J 1.6 errata
 * 3.8: SecurityError), validates what goes out, and watches for a dead connection.
 *
 * Events: `frame` ({direction, frame}), `violation` (Violation), `close` ({code, reason}).
 */
export class ChargePointConnection extends EventEmitter {
  readonly identity: string;
  readonly connectedAt: number;
  private readonly options: ConnectionOptions;
  private lastFrameMs: number;
  private watchdog: TimerHandle | undefined;
  private closed = false;

  constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.identity = options.identity;
    this.connectedAt = options.clock.now();
    this.lastFrameMs = this.connectedAt;
    const { client } = options;

    client.handle(
      async ({ method, params }: { method?: string; params?: unknown }) =>
        (await this.dispatch(method ?? '', params)) as Record<string, unknown>,
    );
    client.on('message', ({ message, outbound }: { message: Buffer | string; outbound: boolean }) => {
      if (!outbound) this.lastFrameMs = this.options.clock.now();
      this.emit('frame', { direction: outbound ? 'out' : 'in', frame: message.toString() });
    });
    client.on('ping', () => {
      this.lastFrameMs = this.options.clock.now();
    });
    client.on('badMessage', ({ buffer, error }: { buffer: Buffer; error: Error }) => {
      this.options.log.warn(
        `charge point ${this.identity}: unreadable frame (${error.message}): ${truncate(buffer.toString())}`,
      );
    });
    client.once('close', ({ code, reason }: { code: number; reason: string | Buffer }) => {
      this.closed = true;
      this.options.clock.clearTimeout(this.watchdog);
      this.emit('close', { code, reason: reason.toString() });
    });
    // ocpp-rpc's typings require every option; reconfigure merges the one given.
    client.reconfigure({ pingIntervalMs: options.chargePoint.pingIntervalS * 1000 } as Parameters<
      RPCServerClient['reconfigure']
    >[0]);
    speakOcpp16Errors(client);
    this.armWatchdog();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get lenient(): boolean {
    return this.options.chargePoint.lenient;
  }

  /** The sub-protocol agreed at the handshake ('' for chargers that offered none). */
  get protocol(): string {
    return this.options.client.protocol ?? '';
  }

  get remoteAddress(): string | undefined {
    return this.options.client.handshake.remoteAddress;
  }

  /** Sends a central-system command and returns the charger's answer. */
  async call<A extends CentralSystemAction>(
    action: A,
    request: OcppRequest<A>,
    timeoutMs = this.options.callTimeoutMs,
  ): Promise<OcppResponse<A>> {
    if (!isCentralSystemAction(action)) {
      throw new CommandError(`${action} is not a command a central system sends`, 'InvalidRequest');
    }
    const requestViolation = findViolation(action, 'request', request);
    if (requestViolation) {
      throw new CommandError(`${action} to ${this.identity}: ${requestViolation.summary}`, 'InvalidRequest');
    }
    if (this.closed) throw new CommandError(`charge point ${this.identity} is not connected`, 'Offline');
    let response: unknown;
    try {
      response = await this.options.client.call(action, request, { callTimeoutMs: timeoutMs });
    } catch (err) {
      throw this.describeCallFailure(action, err as Error & { rpcErrorCode?: string }, timeoutMs);
    }
    const responseViolation = findViolation(action, 'response', response);
    if (responseViolation) {
      this.reportViolation(responseViolation);
      if (!this.lenient) {
        throw new CommandError(
          `charge point ${this.identity} answered ${action} with an invalid response: ${responseViolation.summary}`,
          'InvalidResponse',
        );
      }
    }
    return response as OcppResponse<A>;
  }

  /**
   * Closes this session (for a replacement connection or a stop). `force` drops the socket without
   * a closing handshake, for a peer that is gone.
   */
  async close(code: number, reason: string, force = false): Promise<void> {
    if (this.closed) return;
    await this.options.client.close({ code, reason, force }).catch(() => undefined);
  }

  private async dispatch(method: string, params: unknown): Promise<unknown> {
    if (!isOcppAction(method)) throw ocppError('NotImplemented', `${method} is not an OCPP 1.6 action`);
    if (!chargePointActions.has(method)) {
      throw ocppError('NotSupported', `${method} is sent by a central system, not by a charge point`);
    }
    const action = method as ChargePointAction;
    const violation = findViolation(action, 'request', params);
    if (violation) {
      this.reportViolation(violation);
      if (!this.lenient) throw violationError(violation);
    }
    if (action !== 'BootNotification' && !this.options.isAccepted()) {
      throw ocppError('SecurityError', `${action} before the central system accepted this charge point`);
    }
    const response = await this.options.handle(action, params, this);
    const own = findViolation(action, 'response', response);
    if (own) {
      // A bug of ours: never send the charger something invalid.
      this.options.log.error(`answer to ${action} from ${this.identity} is invalid: ${own.summary}`);
      throw ocppError('InternalError', `the central system could not answer ${action}`);
    }
    return response;
  }

  private reportViolation(violation: Violation): void {
    const verdict = this.lenient ? 'accepted (lenient)' : 'refused';
    this.options.log.warn(
      `charge point ${this.identity}: ${violation.action} ${violation.kind} breaks the OCPP 1.6 schema, ${verdict}: ${violation.summary}`,
    );
    this.emit('violation', violation);
  }

  private describeCallFailure(action: string, err: Error & { rpcErrorCode?: string }, timeoutMs: number) {
    if (err instanceof TimeoutError) {
      const within = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
      return new CommandError(
        `charge point ${this.identity} did not answer ${action} within ${within}`,
        'Timeout',
      );
    }
    if (err.rpcErrorCode) {
      return new CommandError(
        `charge point ${this.identity} answered ${action} with CallError ${err.rpcErrorCode}: ${err.message}`,
        'CallError',
        err.rpcErrorCode,
      );
    }
    if (this.closed || /socket not open|going away|closed/i.test(err.message)) {
      return new CommandError(
        `charge point ${this.identity} disconnected before answering ${action}`,
        'Offline',
      );
    }
    return new CommandError(`${action} to ${this.identity} failed: ${err.message}`, 'CallError');
  }

  private armWatchdog(): void {
    const deadAfterMs = this.options.deadAfterMs();
    const silentMs = this.options.clock.now() - this.lastFrameMs;
    this.watchdog = this.options.clock.setTimeout(
      () => {
        if (this.closed) return;
        if (this.options.clock.now() - this.lastFrameMs >= deadAfterMs) {
          this.options.log.warn(
            `charge point ${this.identity}: nothing received for ${Math.round(deadAfterMs / 1000)} s, closing the connection as dead`,
          );
          void this.close(1001, 'No frames received', true);
          return;
        }
        this.armWatchdog();
      },
      Math.max(1000, deadAfterMs - silentMs),
    );
  }
}

/**
 * ocpp-rpc answers frames it cannot read (not JSON, not an array, unknown message type) with the
 * OCPP 2.0.1 codes RpcFrameworkError and MessageTypeNotSupported, which OCPP-J 1.6 does not have.
 * 1.6 calls a payload that is "syntactically incorrect or not conform the PDU structure" a
 * FormationViolation (section 4.2.3), so those CallErrors are rewritten as they go out.
 */
function speakOcpp16Errors(client: RPCServerClient): void {
  const sendRaw = client.sendRaw.bind(client);
  client.sendRaw = (message: string) => {
    if (message.startsWith('[4,')) {
      const frame = JSON.parse(message) as [number, string, string, string, object];
      if (frame[2] === 'RpcFrameworkError' || frame[2] === 'MessageTypeNotSupported') {
        frame[2] = 'FormationViolation';
        return sendRaw(JSON.stringify(frame));
      }
    }
    return sendRaw(message);
  };
}

function truncate(text: string, length = 200): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
