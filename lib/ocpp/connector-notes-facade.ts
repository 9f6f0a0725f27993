import { EventEmitter } from 'node:events';
import type { LimitFailure, SamplingState } from '../contracts';
import type { BackendLink, CentralSystemEvents } from './central-types';
import type { ConnectorNotes } from './connector-notes';

/**
 * The central system's methods by which other rooms tell it about a connector (the charging-profile
 * manager: confirmed limits, fallbacks, failures, steps, sampling; lib/upstream: the operator's
 * limits and the backend link). Each hands over to the connector notes (connector-notes.ts), which
 * own them; the façade (central-system.ts, which extends this class) owns the notes.
 */
export abstract class ConnectorNotesFacade extends EventEmitter<CentralSystemEvents> {
  protected abstract readonly notes: ConnectorNotes;

  /** The charger confirmed a connector's limit (`limitInForce`, from when its answer arrived). */
  confirmLimit(chargePointId: string, connectorId: number, limitA: number): void {
    this.notes.confirmLimit(chargePointId, connectorId, limitA);
  }

  /** What the operator's backend allows a connector now (lib/upstream); undefined: no limit of its own. */
  setOperatorLimit(chargePointId: string, connectorId: number, limitA: number | undefined): void {
    this.notes.setOperatorLimit(chargePointId, connectorId, limitA);
  }

  /** A load manager fed by this central system composes the operator's limits of these chargers. */
  composeOperatorLimits(manages: (chargePointId: string) => boolean): () => void {
    return this.notes.composeOperatorLimits(manages);
  }

  /** Whether a load manager applies the operator's limits to this charger. */
  operatorLimitsComposed(chargePointId: string): boolean {
    return this.notes.operatorLimitsComposed(chargePointId);
  }

  /** A charger's link to the operator's backend (lib/upstream), for dashboards; undefined: none. */
  noteBackendLink(chargePointId: string, link: BackendLink | undefined): void {
    this.notes.noteBackendLink(chargePointId, link);
  }

  backendLinkOf(chargePointId: string): BackendLink | undefined {
    return this.notes.backendLinkOf(chargePointId);
  }

  /**
   * A connector's offline fallback as the charging-profile manager confirmed it (`offlineFallback`),
   * or that it takes none and keeps its last limit (`keepsLimitOffline`).
   */
  confirmFallback(
    chargePointId: string,
    connectorId: number,
    fallback: { limitA: number; afterS: number } | { keepsLastLimit: string } | undefined,
  ): void {
    this.notes.confirmFallback(chargePointId, connectorId, fallback);
  }

  /** A connector the charging-profile manager could not give a limit (`limitFailed`); undefined: it could again. */
  reportLimitFailure(chargePointId: string, connectorId: number, failure: LimitFailure | undefined): void {
    this.notes.reportLimitFailure(chargePointId, connectorId, failure);
  }

  /** The step a connector's limits go in, as its charger's strategy says (`limitStep`). */
  reportLimitStep(
    chargePointId: string,
    connectorId: number,
    step: { stepA: number; why: string } | undefined,
  ): void {
    this.notes.reportLimitStep(chargePointId, connectorId, step);
  }

  /** What came of asking a charger for per-phase currents (`sampling` on each of its connectors). */
  reportSampling(chargePointId: string, sampling: Omit<SamplingState, 'since'>): void {
    this.notes.reportSampling(chargePointId, sampling);
  }
}
