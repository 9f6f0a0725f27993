/**
 * What the charge point handlers (handlers.ts, transaction-handlers.ts) need of the central system
 * they answer for, and the shapes of their answers.
 */
import type { ChargePointEvents, ChargePointPort, ConnectorState } from '../contracts';
import type { Logger } from '../log';
import type { ConnectorRegistry } from './connectors';
import type { UnknownChargePointPolicy } from './handshake';
import type { IdTagInfo } from './id-tags';

/** A handler's answer: the response to the charger, the payload of the `message` event. */
export interface Answer {
  response: unknown;
  payload: unknown;
}

/** What the handlers need of the central system they answer for. */
export interface HandlersHost extends Pick<ChargePointPort, 'call'> {
  readonly options: Readonly<{
    unknownChargePoints?: UnknownChargePointPolicy;
    readConfigurationOnBoot?: boolean;
    dataTransfer?: 'reject' | 'flow';
    signCertificate?: 'reject' | 'flow';
  }>;
  /** The connectors' live state, which the handlers keep in step with what chargers report. */
  readonly connectors: ConnectorRegistry;
  readonly log: Logger;
  nowIso(): string;
  isKnown(chargePointId: string): boolean;
  heartbeatIntervalS(): number;
  pendingRetryIntervalS(): number;
  /** Tells the central system's listeners what a message changed. */
  emit(event: 'message', payload: ChargePointEvents['message']): unknown;
  emit(event: 'session', payload: ChargePointEvents['session']): unknown;
  /** A connector's state changed: to the typed port (the load manager), then the flows' `connector` event. */
  connectorChanged(state: ConnectorState): void;
}

/** An answer decided by somebody else (the operator's backend), as the charger is to get it. */
export interface Decided {
  idTagInfo?: IdTagInfo;
  [field: string]: unknown;
}
