import type { CarNeeds, ConnectorState, LimitFailure, SamplingState } from '../contracts';
import type { BackendLink } from './central-types';
import type { ConnectorRegistry } from './connectors';

/**
 * What other rooms tell the central system about a connector, kept on its state and published
 * with it: the limit the charger confirmed (lib/profiles, `limitInForce`), its offline fallback
 * (lib/profiles, `offlineFallback`) and what the operator's backend allows (lib/upstream,
 * `operatorLimitA`). Also when each charger's latest answer to a command arrived: a limit it
 * confirmed holds from then on.
 */
export class ConnectorNotes {
  /** Clock ms: put in words only where a confirmation says since when (most answers confirm nothing). */
  private readonly lastAnswerAt = new Map<string, number>();
  private readonly backendLinks = new Map<string, BackendLink>();
  /** The load managers fed by this central system: each says which chargers it manages. */
  private readonly composers = new Set<(chargePointId: string) => boolean>();

  constructor(
    private readonly connectors: ConnectorRegistry,
    private readonly publish: (state: ConnectorState) => void,
    private readonly nowIso: () => string,
  ) {}

  /** A charger's answer to a command arrived at `atMs`. */
  answered(chargePointId: string, atMs: number): void {
    this.lastAnswerAt.set(chargePointId, atMs);
  }

  /** A charger's link to the operator's backend changed (lib/upstream); undefined: it has none. */
  noteBackendLink(chargePointId: string, link: BackendLink | undefined): void {
    if (link) this.backendLinks.set(chargePointId, link);
    else this.backendLinks.delete(chargePointId);
  }

  backendLinkOf(chargePointId: string): BackendLink | undefined {
    return this.backendLinks.get(chargePointId);
  }

  /**
   * A load manager takes its connector states from this central system and composes what the
   * operator's backend allows (`operatorLimitA`) for the chargers `manages` names; returns its
   * removal.
   */
  composeOperatorLimits(manages: (chargePointId: string) => boolean): () => void {
    this.composers.add(manages);
    return () => this.composers.delete(manages);
  }

  /** Whether a load manager applies the operator's limits to this charger (else nobody would). */
  operatorLimitsComposed(chargePointId: string): boolean {
    return this.managed(chargePointId);
  }

  /** Whether a load manager fed by this central system manages the charger (its limits follow as profiles). */
  managed(chargePointId: string): boolean {
    for (const manages of this.composers) if (manages(chargePointId)) return true;
    return false;
  }

  confirmLimit(chargePointId: string, connectorId: number, limitA: number): void {
    const state = this.connectors.get(chargePointId, connectorId);
    const confirmedAt = this.nowIso();
    const answerMs = this.lastAnswerAt.get(chargePointId);
    const since = answerMs === undefined ? confirmedAt : new Date(answerMs).toISOString();
    state.limitInForce = { limitA, since, confirmedAt };
    // A limit in force again: whatever failed before does not hold any more.
    delete state.limitFailed;
    this.publish(state);
  }

  reportLimitFailure(chargePointId: string, connectorId: number, failure: LimitFailure | undefined): void {
    const state = this.connectors.get(chargePointId, connectorId);
    if (failure) state.limitFailed = { ...failure, since: this.nowIso() };
    else if (state.limitFailed) delete state.limitFailed;
    else return;
    this.publish(state);
  }

  /** The step a connector's limits go in (lib/profiles' strategy); published only when it changed. */
  reportLimitStep(
    chargePointId: string,
    connectorId: number,
    step: { stepA: number; why: string } | undefined,
  ): void {
    // None for a connector not known yet: nothing to say, and no state made for it.
    const state = step
      ? this.connectors.get(chargePointId, connectorId)
      : this.connectors.find(chargePointId, connectorId);
    if (!state) return;
    const known = state.limitStep;
    if (known?.stepA === step?.stepA && known?.why === step?.why) return;
    if (step) state.limitStep = { stepA: step.stepA, why: step.why };
    else delete state.limitStep;
    this.publish(state);
  }

  /** Kept on every connector of the charger it knows (connector 0 included), each published. */
  reportSampling(chargePointId: string, sampling: Omit<SamplingState, 'since'>): void {
    const since = this.nowIso();
    for (const state of this.connectors.all(chargePointId)) {
      state.sampling = { ...sampling, since };
      this.publish(state);
    }
  }

  setOperatorLimit(chargePointId: string, connectorId: number, limitA: number | undefined): void {
    const state = this.connectors.get(chargePointId, connectorId);
    if (state.operatorLimitA === limitA) return;
    if (limitA === undefined) delete state.operatorLimitA;
    else state.operatorLimitA = limitA;
    this.publish(state);
  }

  /** What the car on a connector said it needs (ISO 15118 via OCPP 2.0.1); undefined: forgotten. */
  setCarNeeds(chargePointId: string, connectorId: number, needs: CarNeeds | undefined): void {
    const state = this.connectors.get(chargePointId, connectorId);
    if (needs === undefined && state.carNeeds === undefined) return;
    if (needs === undefined) delete state.carNeeds;
    else state.carNeeds = needs;
    this.publish(state);
  }

  confirmFallback(
    chargePointId: string,
    connectorId: number,
    fallback: { limitA: number; afterS: number } | { keepsLastLimit: string } | undefined,
  ): void {
    const state = this.connectors.get(chargePointId, connectorId);
    if (fallback && 'keepsLastLimit' in fallback) {
      if (state.keepsLimitOffline?.why === fallback.keepsLastLimit && !state.offlineFallback) return;
      delete state.offlineFallback;
      state.keepsLimitOffline = { why: fallback.keepsLastLimit, since: this.nowIso() };
    } else if (fallback) {
      delete state.keepsLimitOffline;
      state.offlineFallback = { ...fallback, since: this.nowIso() };
    } else if (state.offlineFallback || state.keepsLimitOffline) {
      delete state.offlineFallback;
      delete state.keepsLimitOffline;
    } else return;
    this.publish(state);
  }
}
