import type { EventEmitter } from 'node:events';
import { createRPCError, NOREPLY, type RPCClient } from 'ocpp-rpc';
import type { Clock } from '../../lib/clock';
import type { OcppRequest, OcppResponse } from '../../lib/ocpp/messages';
import type { ConfigurationStore } from '../configuration';
import {
  type ChargePointEvents,
  type CpAction,
  type CsAction,
  type LinkOptions,
  NO_QUIRKS,
  OCPP_VERSIONS,
  type ReceivedMessage,
  type RegistrationStatus,
  type SentMessage,
} from '../types';
import { errorFrame201, type Host201, OCPP201, Ocpp201 } from './index';

/**
 * The charge point's link (sim/link.ts) when it speaks OCPP 2.0.1: the sub-protocol it offers,
 * its requests through the translation (sim/v201), the CSMS's commands through its 1.6
 * handlers, the `sent` events and CALLERROR frames of its connection. The link asks for it only
 * under 2.0.1; under 1.6 it talks to ocpp-rpc itself.
 */

/** The link as its 2.0.1 side sees it: its events and public state (read when asked). */
export interface LinkView201 extends EventEmitter<ChargePointEvents> {
  readonly identity: string;
  readonly clock: Clock;
  readonly configuration: ConfigurationStore;
  readonly registration: RegistrationStatus | undefined;
}

/** What the link lends its 2.0.1 side of its insides (what the translation asks, and more). */
export interface LinkInsides201
  extends Pick<Host201, 'log' | 'evse' | 'connectorIds' | 'transactionMessagesQueued'> {
  /**
   * Has the handler (or its override) answer a command in 1.6 shapes, with the `replied` event,
   * request and answer checked against the 1.6 schemas; a request that does not fit them fails
   * with `invalid(action, err)`.
   */
  runCommand(
    action: CsAction,
    request: unknown,
    invalid: (action: CsAction, err: Error) => Error,
  ): Promise<{ response: unknown; after?: () => void }>;
  /** Runs `fn` once the answer to the request `messageId` is out. */
  afterReply(messageId: string, fn: () => void): void;
}

export class Link201 {
  private readonly translation: Ocpp201;

  private constructor(
    private readonly link: LinkView201,
    private readonly insides: LinkInsides201,
  ) {
    this.translation = new Ocpp201(this.host());
  }

  /**
   * The link's 2.0.1 side when `options` ask for OCPP 2.0.1, undefined under 1.6 (the default);
   * another version is a RangeError. Vendor quirks are 1.6 deviations: under 2.0.1 none applies
   * (the link takes none), and a charger given some says so.
   */
  static ifAsked(
    options: Pick<LinkOptions, 'ocppVersion' | 'quirks'>,
    link: LinkView201,
    insides: LinkInsides201,
  ): Link201 | undefined {
    const version = options.ocppVersion ?? '1.6';
    if (!OCPP_VERSIONS.includes(version)) {
      throw new RangeError(`ocppVersion must be ${OCPP_VERSIONS.join(' or ')}, not "${version}"`);
    }
    if (version !== '2.0.1') return undefined;
    if (Object.values({ ...NO_QUIRKS, ...options.quirks }).some(Boolean)) {
      insides.log.warn(
        `${link.identity}: vendor quirks are OCPP 1.6 deviations; under OCPP 2.0.1 they do not apply`,
      );
    }
    return new Link201(link, insides);
  }

  /** What the 2.0.1 translation asks of the charge point (read when it asks). */
  private host(): Host201 {
    const { link, insides } = this;
    return {
      identity: link.identity,
      log: insides.log,
      now: () => link.clock.now(),
      evse: (connectorId) => insides.evse(connectorId),
      connectorIds: () => insides.connectorIds(),
      transactionMessagesQueued: () => insides.transactionMessagesQueued(),
      // A remote start's transaction begins within ConnectionTimeOut, after an Authorize at most.
      remoteStartWindowMs: () =>
        (link.configuration.int('ConnectionTimeOut', 120) + link.configuration.int('MessageTimeout', 30)) *
          1000 +
        10_000,
      whenNoTransactions: () =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (insides.connectorIds().some((id) => insides.evse(id)?.transaction)) return;
            link.off('transactionStopped', check);
            resolve();
          };
          link.on('transactionStopped', check);
          check();
        }),
    };
  }

  /**
   * ocpp-rpc's options for the sub-protocol: ocpp2.0.1, which its strict mode checks with the OCA
   * schemas the library ships.
   */
  clientOptions(): { protocols: string[]; strictMode: string[]; strictModeValidators: [] } {
    return { protocols: [OCPP201], strictMode: [OCPP201], strictModeValidators: [] };
  }

  /**
   * Hooks into a new client: `sent` reports the simulator's own request a 2.0.1 one carries; a
   * CALLERROR goes out with its code in 2.0.1's spelling.
   */
  attach(client: RPCClient): void {
    client.on('call', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      if (!outbound) return;
      const [, messageId, , request] = payload as [number, string, string, unknown];
      const origin = this.translation.originOf(request);
      if (origin) this.link.emit('sent', { ...origin, messageId } as SentMessage);
    });
    const sendRaw = client.sendRaw.bind(client);
    client.sendRaw = (message: string) => sendRaw(errorFrame201(message));
  }

  /**
   * A connection opened. (A central system that does not agree to ocpp2.0.1 fails the handshake:
   * ws checks the sub-protocol.)
   */
  connected(): void {
    this.translation.connected();
  }

  /** The next BootNotification answers a TriggerMessage. */
  bootTriggered(): void {
    this.translation.outgoing.bootReason = 'Triggered';
  }

  /** Why the simulator restarts, for the BootNotification that follows. */
  rebooting(reason: string): void {
    this.translation.rebooting(reason);
  }

  /** The 2.0.1 transactionId of the transaction the simulator knows by `transactionId`. */
  transactionId(transactionId: number): string | undefined {
    return this.translation.transactionId(transactionId);
  }

  /** The simulator's request, sent as 2.0.1 on `client`; the answer in 1.6 shapes. */
  send(action: CpAction, request: unknown, client: RPCClient, triggered = false): Promise<unknown> {
    return this.translation.send(
      action,
      request,
      (action201, payload201) => client.call(action201, payload201) as Promise<Record<string, unknown>>,
      triggered,
    );
  }

  /**
   * A 2.0.1 CSMS command: translated to the simulator's 1.6 commands (each with its `received` and
   * `replied` events, checked against the 1.6 schemas), answered in 2.0.1 shapes.
   */
  async onRequest(action: string, params: unknown, messageId: string): Promise<unknown> {
    if (!Ocpp201.isCsmsAction(action)) {
      const known = Ocpp201.isStationAction(action);
      throw createRPCError(
        known ? 'NotSupported' : 'NotImplemented',
        `${action} is not ${known ? 'sent by a CSMS' : 'an OCPP 2.0.1 action'}`,
      );
    }
    // B02/B03 as 1.6 4.2: a Rejected charging station does not answer.
    if (this.link.registration === 'Rejected') return NOREPLY as unknown as symbol;
    const afters: (() => void)[] = [];
    const run = async <A extends CsAction>(
      csAction: A,
      request: OcppRequest<A>,
    ): Promise<OcppResponse<A>> => {
      this.link.emit('received', { action: csAction, request, messageId } as ReceivedMessage);
      const { response, after } = await this.insides.runCommand(csAction, request, untranslatable);
      if (after) afters.push(after);
      return response as OcppResponse<A>;
    };
    const runLater = async <A extends CsAction>(csAction: A, request: OcppRequest<A>): Promise<void> => {
      this.link.emit('received', { action: csAction, request, messageId } as ReceivedMessage);
      const { after } = await this.insides.runCommand(csAction, request, untranslatable);
      after?.();
    };
    const response = await this.translation.receive(action, params as Record<string, unknown>, {
      run,
      later: (fn) => afters.push(fn),
      runLater,
    });
    if (afters.length > 0)
      this.insides.afterReply(messageId, () => {
        for (const fn of afters) fn();
      });
    return response;
  }
}

/** A command translated from 2.0.1 that the 1.6 model cannot take (an id token of 36 characters, ...). */
function untranslatable(action: CsAction, err: Error): Error {
  return createRPCError(
    'PropertyConstraintViolation',
    `the simulator's OCPP 1.6 model cannot take this ${action}: ${err.message}`,
  ) as unknown as Error;
}
