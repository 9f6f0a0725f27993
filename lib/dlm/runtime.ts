/**
 * The record the load manager keeps per connector, and per session (car) within it. Each record is
 * made of parts; each part is declared by the one stage that writes it (the others only read it):
 *
 * - `DrawRecord` (evidence/measurements.ts): the newest draw sample and the draw history;
 * - `ObservedConnector` (evidence/observer.ts) and `ObservedSession` (evidence/observations.ts): status, online,
 *   the session, phase detection, under-draw, overdraw, a decrease not yet followed;
 * - `PhaseSession` (evidence/phase-session.ts; when to switch: control/phase-switching.ts): 1/3-phase switching;
 * - `PvSession` (modes/pv.ts): PV enable/disable with its delays;
 * - `PolicyRecord`, `PolicySession` (control/policy.ts): the set-points sent, ramps, minimum on/off times
 *   (evidence/minimum-times.ts);
 * - `PreferenceRecord` (modes/preferences.ts): mode and priority overrides and expression results;
 * - `DepartureSession` (evidence/departure.ts): where the energy a car asked for over ISO 15118 counts from.
 *
 * The registry below owns the records' lifetime: one per connector key, kept across a replaced site.
 */

import type { SetPoint } from '../contracts';
import { newChargerStepRecord } from './evidence/charger-step-record';
import { newDrawRecord } from './evidence/measurements';
import { newObservedSession } from './evidence/observations';
import {
  type ConnectorRuntime,
  newCarMinimumSession,
  newDepartureSession,
  newObservedConnector,
  newPhaseSession,
  newPolicyRecord,
  newPolicySession,
  newPreferenceRecord,
  newPvSession,
  type SessionRuntime,
} from './parts';
import type { AllFields } from './site/all-fields';
import type { Connector, Site } from './site/model';

export type { ConnectorRuntime, SessionRuntime } from './parts';

/**
 * A new car: every stage's session part starts over. Each part is made with every one of its
 * fields (undefined where nothing is known yet) and the record is one object literal of them all,
 * so that every record has the same fields in the same order from the start, whatever happened to
 * it since: V8 then gives them all one hidden class, with the fields in the object itself, and each
 * stage's pass over the records reads a field at one place. Made with only the fields set at first,
 * the others added when a stage first wrote them, the records of 1,000 connectors had 5 hidden
 * classes after 300 updates (sessions 3), and the stages' reads went through V8's slow,
 * megamorphic path. Not `Object.assign` of the parts (that put the records in dictionary mode: V8
 * allows 12 fields beyond a literal's own when they are assigned), nor a spread of them (objects
 * spread from several parts were measured to make every update about twice as slow on 5,000
 * connectors). The literal lists the fields again; `AllFields` makes the compiler name one left out.
 */
export function newSession(key: string): AllFields<SessionRuntime> {
  const o = newObservedSession(key);
  const p = newPhaseSession();
  const v = newPvSession();
  const q = newPolicySession();
  const d = newDepartureSession();
  const m = newCarMinimumSession();
  return {
    key: o.key,
    keyState: o.keyState,
    keyWantingSinceMs: o.keyWantingSinceMs,
    startedAtMs: o.startedAtMs,
    lastSeq: o.lastSeq,
    candidatePhases: o.candidatePhases,
    candidateFromMs: o.candidateFromMs,
    confirmedPhases: o.confirmedPhases,
    underDrawSinceMs: o.underDrawSinceMs,
    underDrawFromA: o.underDrawFromA,
    underDrawShown: o.underDrawShown,
    underDrawCapA: o.underDrawCapA,
    energyProbe: o.energyProbe,
    energyProbed: o.energyProbed,
    energyFewestPhases: o.energyFewestPhases,
    energyPhasesFrom: o.energyPhasesFrom,
    energyAtSetPointA: o.energyAtSetPointA,
    energyAtLast: o.energyAtLast,
    energyPhases: o.energyPhases,
    overdrawSinceMs: o.overdrawSinceMs,
    lastOver: o.lastOver,
    aboveSetPoint: o.aboveSetPoint,
    guessEndsAtMs: o.guessEndsAtMs,
    overdrawing: o.overdrawing,
    refusedReadings: o.refusedReadings,
    refusedWhy: o.refusedWhy,
    overdrawFloorA: o.overdrawFloorA,
    overdrawCapA: o.overdrawCapA,
    overdrawAboveA: o.overdrawAboveA,
    compliantSinceMs: o.compliantSinceMs,
    overdrawEpisodes: o.overdrawEpisodes,
    limitIgnored: o.limitIgnored,
    ignoresLimit: o.ignoresLimit,
    overshoot: o.overshoot,
    overshootRounding: o.overshootRounding,
    registerBeyondA: o.registerBeyondA,
    registerBeyondJudged: o.registerBeyondJudged,
    registerAboveA: o.registerAboveA,
    registerAnchor: o.registerAnchor,
    registerFollows: o.registerFollows,
    uncontrolledMostA: o.uncontrolledMostA,
    uncontrolledReadings: o.uncontrolledReadings,
    uncontrolledByCountA: o.uncontrolledByCountA,
    meterRoom: o.meterRoom,
    onePhase: p.onePhase,
    switches: p.switches,
    switchedAtMs: p.switchedAtMs,
    previousChargerPhases: p.previousChargerPhases,
    currentSent: p.currentSent,
    switchesBeforeCurrent: p.switchesBeforeCurrent,
    phaseSwitchRefused: p.phaseSwitchRefused,
    downSinceMs: p.downSinceMs,
    upSinceMs: p.upSinceMs,
    downShort: p.downShort,
    pvEnabled: v.pvEnabled,
    pvEnableSinceMs: v.pvEnableSinceMs,
    pvShortfallWms: v.pvShortfallWms,
    pvShortSinceMs: v.pvShortSinceMs,
    pvDipCreditWms: v.pvDipCreditWms,
    pvStartWms: v.pvStartWms,
    pvStartW: v.pvStartW,
    pvStartAtMs: v.pvStartAtMs,
    pvLeftToOthersW: v.pvLeftToOthersW,
    pvNeedW: v.pvNeedW,
    pvLeftW: v.pvLeftW,
    pvReserve: v.pvReserve,
    pvStops: v.pvStops,
    pvEnabledAtMs: v.pvEnabledAtMs,
    pvShortfallW: v.pvShortfallW,
    pvShortfallAtMs: v.pvShortfallAtMs,
    pauses: q.pauses,
    needsAt: d.needsAt,
    needsFromWh: d.needsFromWh,
    needsLastWh: d.needsLastWh,
    learnedMinA: m.learnedMinA,
    stoppedAtA: m.stoppedAtA,
    chargedAtA: m.chargedAtA,
    minLastStatus: m.minLastStatus,
    notStartedAtA: m.notStartedAtA,
    probeDone: m.probeDone,
    restingSinceMs: m.restingSinceMs,
    yielding: m.yielding,
  };
}

/** The connectors' records: by key (kept across a replaced site) and by index in the current site. */
export class ConnectorRuntimes {
  private byKey = new Map<string, ConnectorRuntime>();
  private byIndex: ConnectorRuntime[] = [];
  /** The adopted site's connectors: one of them finds its record by index, without the map. */
  private adopted: readonly Connector[] = [];
  private connectorByKey = new Map<string, Connector>();

  /** Makes the records for `site`: a connector keeps its record by key; others are dropped. */
  adopt(site: Site): void {
    const old = this.byKey;
    this.byKey = new Map();
    this.byIndex = site.connectors.map((connector) => {
      const runtime = old.get(connector.key) ?? newRuntime();
      this.byKey.set(connector.key, runtime);
      return runtime;
    });
    // Keys are unique in a validated site, so the index finds what the key finds.
    this.adopted = site.connectors;
    this.connectorByKey = new Map();
    for (const connector of site.connectors)
      if (!this.connectorByKey.has(connector.key)) this.connectorByKey.set(connector.key, connector);
  }

  /** The connector of `site` with this key (the first, as a scan finds it). */
  connectorOf(site: Site, key: string): Connector | undefined {
    if (site.connectors === this.adopted) return this.connectorByKey.get(key);
    return site.connectors.find((c) => c.key === key);
  }

  /** The record of a connector (made when there is none yet). */
  of(connector: Connector): ConnectorRuntime {
    if (this.adopted[connector.index] === connector) {
      const runtime = this.byIndex[connector.index];
      if (runtime) return runtime;
    }
    let runtime = this.byKey.get(connector.key);
    if (!runtime) {
      runtime = newRuntime();
      this.byKey.set(connector.key, runtime);
    }
    return runtime;
  }

  /** The record of the connector at index `k` of the current site. */
  at(k: number): ConnectorRuntime | undefined {
    return this.byIndex[k];
  }

  /**
   * The set-points in force (the last sent), one per connector of `site` that was sent one, with
   * the reason `reasonOf` gives for the connector at index k.
   */
  setPoints(site: Site, reasonOf: (k: number) => string): SetPoint[] {
    return site.connectors.flatMap((connector, k) => {
      const sent = this.of(connector).sent;
      return sent
        ? [
            {
              chargePointId: connector.chargePointId,
              connectorId: connector.connectorId,
              limitA: sent.limitA,
              phases: sent.phases,
              reason: reasonOf(k),
              ...(sent.fallbackA === undefined ? {} : { fallbackA: sent.fallbackA }),
            },
          ]
        : [];
    });
  }
}

/** A connector's record: one literal of its parts' fields, as a session's (see newSession). */
function newRuntime(): AllFields<ConnectorRuntime> {
  const d = newDrawRecord();
  const o = newObservedConnector(newSession('none'));
  const p = newPolicyRecord();
  const f = newPreferenceRecord();
  const s = newChargerStepRecord();
  return {
    draw: d.draw,
    drawSeq: d.drawSeq,
    drawHistory: d.drawHistory,
    register: d.register,
    unphasedRun: d.unphasedRun,
    unphasedPerPhase: d.unphasedPerPhase,
    unphasedAtSetPointA: d.unphasedAtSetPointA,
    refused: d.refused,
    state: o.state,
    session: o.session,
    pendingDecrease: o.pendingDecrease,
    confirmed: o.confirmed,
    departed: o.departed,
    wantingSinceMs: o.wantingSinceMs,
    followMs: o.followMs,
    wasOnline: o.wasOnline,
    resend: o.resend,
    sent: p.sent,
    previousSent: p.previousSent,
    lastChangeAtMs: p.lastChangeAtMs,
    changes: p.changes,
    increaseSinceMs: p.increaseSinceMs,
    chargingSinceMs: p.chargingSinceMs,
    offUntilMs: p.offUntilMs,
    lastIncreaseAtMs: p.lastIncreaseAtMs,
    modeOverride: f.modeOverride,
    priorityOverride: f.priorityOverride,
    exprMode: f.exprMode,
    exprPriority: f.exprPriority,
    exprErrors: f.exprErrors,
    lastExprInput: f.lastExprInput,
    priceMode: f.priceMode,
    pricePlan: f.pricePlan,
    pricePlanned: f.pricePlanned,
    wholeAmpsSeen: s.wholeAmpsSeen,
    stepStaleState: s.stepStaleState,
    stepStaleForMs: s.stepStaleForMs,
  };
}
