import type { Clock } from '../clock';
import type { ChargePointEvents } from '../contracts';
import type { Logger } from '../log';
import type { ChargerTraffic } from './central-types';
import { type CentralSystemAction, type ChargePointConnection, CommandError } from './connection';
import type { ConnectorNotes } from './connector-notes';
import type { OcppRequest, OcppResponse } from './messages';
import { OCPP201 } from './v201/schemas';

/** How a command goes (central-system.call). */
export interface CallOptions {
  /** How long to wait for the charger's answer, in ms. */
  timeoutMs?: number;
  /** Relayed from the operator's backend: it names the charger's own transaction ids already. */
  verbatim?: boolean;
  /** In the charger's own version's words, as it is (a 2.0.1 backend's command to a 2.0.1 charger). */
  asWritten?: boolean;
}

/** A room between that takes 2.0.1 chargers' CALLs as they came. */
export type Room201 = ChargerTraffic & Required<Pick<ChargerTraffic, 'request201'>>;

/** What the traffic needs of the central system around it. */
export interface TrafficHost {
  clock: Clock;
  log: Logger;
  notes: ConnectorNotes;
  connection(chargePointId: string): ChargePointConnection | undefined;
  /** Whether the central system has a record of the charger (for the error's words). */
  known(chargePointId: string): boolean;
  emitCommand(event: ChargePointEvents['command']): void;
  /** Keeps the durable record in step with what a command changed (handlers.afterCommand); undefined: nothing to keep. */
  afterCommand(
    chargePointId: string,
    action: CentralSystemAction,
    request: unknown,
    response: unknown,
  ): Promise<void> | undefined;
}

/**
 * The central system's traffic with its chargers, both ways: a charger's CALL goes to the central
 * system's own handling, or through the room that stands between (lib/upstream: between, which
 * ChargerCalls asks, and room201); a command goes to
 * the charger with that room's ids, is timed from when its answer arrived, reported, and recorded.
 */
export class TrafficGate {
  private traffic: ChargerTraffic | undefined;

  constructor(private readonly host: TrafficHost) {}

  /** Puts a room between the chargers and the central system's own answers; returns its removal. */
  interpose(traffic: ChargerTraffic): () => void {
    if (this.traffic)
      throw new Error('another room already stands between the chargers and this central system');
    this.traffic = traffic;
    return () => {
      if (this.traffic === traffic) this.traffic = undefined;
    };
  }

  /**
   * The room between this charger and the central system's shared (1.6) shapes. An OCPP 2.0.1
   * charger's calls meet the room as they came (room201), and ampflow's commands need no ids
   * of the room's (the charger names its own transactions), so it has none here. A 1.6 charger's
   * CALL meets it in charger-calls.ts.
   */
  between(chargePointId: string): ChargerTraffic | undefined {
    if (!this.traffic) return undefined;
    return this.host.connection(chargePointId)?.protocol === OCPP201 ? undefined : this.traffic;
  }

  /**
   * The room between that takes OCPP 2.0.1 chargers' CALLs as they came (request201), if any:
   * ChargerCalls hands them to it before their translation.
   */
  room201(): Room201 | undefined {
    return this.traffic?.request201 ? (this.traffic as Room201) : undefined;
  }

  /**
   * Sends a command to a charge point and returns its answer. Fails at once when the charger is
   * not connected (nothing is queued); a timeout names the charger and the action.
   */
  async call<A extends CentralSystemAction>(
    chargePointId: string,
    action: A,
    request: OcppRequest<A>,
    options: CallOptions = {},
  ): Promise<OcppResponse<A>> {
    const { host } = this;
    const connection = host.connection(chargePointId);
    if (!connection?.isOpen) {
      throw new CommandError(
        host.known(chargePointId)
          ? `charge point ${chargePointId} is not connected`
          : `charge point ${chargePointId} is unknown to this central system`,
        'Offline',
      );
    }
    let response: OcppResponse<A>;
    try {
      // A transaction the charger is being answered: its ids are known to the room between (the
      // charger's id for the ledger's) once the answer is on its way.
      if (connection.holding) await connection.startAnswered();
      // ampflow's own commands speak of transactions by the ledger's ids; `verbatim` (a command
      // relayed from an upstream backend) already speaks the charger's.
      const sent =
        this.between(chargePointId) && !options.verbatim
          ? ((this.traffic as ChargerTraffic).command(chargePointId, action, request) as OcppRequest<A>)
          : request;
      response = await connection.call(action, sent, options.timeoutMs, options.asWritten);
      host.notes.answered(chargePointId, connection.answeredAtMs ?? host.clock.now());
    } catch (err) {
      host.emitCommand({ chargePointId, action, request, error: err as Error });
      throw err;
    }
    host.emitCommand({ chargePointId, action, request, response });
    // The charger has carried the command out: failing to record its effect is logged, not thrown.
    // A 2.0.1 command the flow wrote in 2.0.1's own words has no effect the shared records know.
    const recording = connection.sendsAsWritten(request)
      ? undefined
      : host.afterCommand(chargePointId, action, request, response);
    if (recording) {
      await recording.catch((err: Error) => {
        host.log.error(`recording the effect of ${action} on ${chargePointId} failed: ${err.message}`);
      });
    }
    return response;
  }
}
