/**
 * Connector observer stage: what each connector is doing. It takes the central system's connector
 * states, tells a new car from the last one (the session), detects the phases a car uses and that
 * it under-draws, and (with evidence/overdraw.ts) that it overdraws. Reading is kept apart from
 * judging: `observe` updates the observer's records from what arrived since the last update;
 * `view` then derives, without changing anything, how the connector counts in this update (its
 * phases for the capacity and for the unbalance, its floor, cap and why, mode, priority, minimum
 * and plan). The observer keeps the views of the last update, one per connector. The draw helpers
 * (`freshDraw`, `chargerPhasesOf`, `drawnNow`) are pure too; `observe` and `view` read the
 * records through them the same way.
 */
import type { ConnectorState, ConnectorStatus } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import type { Logger } from '../../log';
import { isoMs } from '../../time';
import { sameButConfirmation, sanitizeConnectorState } from '../inputs';
import { type ConnectorRuntime, type ConnectorView, newView, type SessionRuntime } from '../parts';
import {
  ceilStep,
  conductorsOf,
  EPS,
  type GridPhase,
  gridPhasesFor,
  maxKnown,
  NO_FLOOR,
  ONE_PHASE,
  sameList,
  type Triple,
  toGrid,
  triple,
  union,
  wiredPhases,
} from '../phases';
import { type ConnectorRuntimes, newSession } from '../runtime';
import type { Connector, Site } from '../site/model';
import { english, type Reason, say } from '../words';
import { carWantsCurrent } from './car-left';
import { carMinimum, noteCarMinimum, tookNothingWhenLastOffered } from './car-minimum';
import { offeredSurely } from './charger-draw';
import { settleDecrease } from './decrease-settle';
import { departurePlan, noteCarNeeds } from './departure';
import {
  fewestPhasesOf,
  notePhasesShow,
  registerDraw,
  type UnphasedShows,
  unphasedShows,
} from './energy-draw';
import { CONFIRMED_EPS_A } from './follow-from';
import {
  type DrawSample,
  drawGrid,
  forgetDraw,
  noteRefusal,
  takeDraw,
  takeRefusal,
  unphasedOn,
} from './measurements';
import { meterFewestPhases } from './meter-phases';
import { chargerReadingRefusal, withoutRefused } from './meter-plausibility';
import { forgetPause, minimumTimes } from './minimum-times';
import { sessionEnergyWh } from './observations';
import {
  allowedAt,
  flagOverdraw,
  followMsOf,
  notRaisedAbove,
  type ObserverContext,
  observeOverdraw,
  settledFromMs,
} from './overdraw';
import { drawnBeyondOvershoot, noteOvershoot } from './overshoot';
import { refuseSwitching, settlingAfterSwitch } from './phase-session';
import { effectiveMode, effectivePriority } from './preference-in-force';
import { ResponseTimes } from './response-time';
import {
  failedLimitReserve,
  ignoredLimitReserve,
  noteUncontrolledDraw,
  notUnderControl,
  offlineReserve,
  uncontrolledConductors,
  uncontrolledMostOf,
} from './uncontrolled';

/** The newest draw sample while it is fresh (connectorDrawStaleAfterMs). */
export function freshDraw(site: Site, runtime: ConnectorRuntime, now: number): DrawSample | undefined {
  const draw = runtime.draw;
  return draw && now - draw.atMs <= site.control.connectorDrawStaleAfterMs ? draw : undefined;
}

/**
 * The charger phases the car counts on: one after a switch to one phase, else the detected ones
 * (all wired until detected); while a switch settles, the old ones as well.
 */
export function chargerPhasesOf(
  site: Site,
  connector: Connector,
  session: SessionRuntime,
  now: number,
): readonly number[] {
  const phases = session.onePhase ? ONE_PHASE : (session.confirmedPhases ?? wiredPhases(connector));
  if (settlingAfterSwitch(site, session, now) && session.previousChargerPhases) {
    return union(phases, session.previousChargerPhases);
  }
  return phases;
}

/**
 * What the car draws now on its phases (a car in SuspendedEV draws nothing even when no meter
 * value says so).
 */
export function drawnNow(
  status: ConnectorStatus | undefined,
  drawFresh: DrawSample | undefined,
  chargerPhases: readonly number[],
): number | undefined {
  if (status === 'SuspendedEV') return maxKnown(drawFresh?.chargerA, chargerPhases) ?? 0;
  if (status === 'Charging' && drawFresh) return maxKnown(drawFresh.chargerA, chargerPhases);
  return undefined;
}

/** How far below what its car draws the probe's set-point goes (more than a car's overshoot). */
const PROBE_DROP_A = 2;

/**
 * A car read by its energy register alone that may be on fewer phases than its charger's (a
 * three-phase car at 15.4 A and a two-phase one at 23.1 A give the same delta) is counted at the
 * fewer (evidence/energy-draw.ts mostA), and, under a set-point that lets it draw that, never seen
 * under-drawing: the share it does not take is kept from the others for the session (issue 45's home
 * layout: 8.9 A of a 63 A grid unused for an hour). Where the power spread over every phase is well
 * below its steady set-point, the set-point is lowered once a session a little below that spread
 * (PROBE_DROP_A, not below the car's minimum): a car on every phase whose charger follows falls to
 * the new set-point on all of them, and the reading under it shows that power; a car on fewer
 * phases shows less, and a charger that ignores its limits shows no fall. Only the first is taken as
 * on every phase for the rest of the session (`energyProbed: 'widest'`, counted so by the register:
 * energy-draw.ts); then the probe's cap is lifted and the under-draw rule takes it from there.
 * Returns the probe's set-point when one starts, `'waiting'` while no reading under it came.
 */
function energyProbe(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  drawFresh: DrawSample | undefined,
  status: ConnectorStatus | undefined,
  now: number,
): number | 'waiting' | undefined {
  const session = runtime.session;
  const energy = drawFresh?.energy;
  if (session.energyProbed || !energy || status !== 'Charging') return undefined;
  const { control } = site;
  const followMs = followMsOf(site, runtime);
  const changedAt = runtime.lastChangeAtMs;
  const spreadA = Math.max(0, ...energy.leastA.map((a) => a ?? 0));
  const probed = session.energyProbe;
  if (probed !== undefined) {
    if (energy.fromMs < Math.max(probed.atMs, changedAt ?? 0) + followMs) return 'waiting';
    const probeA = session.underDrawCapA;
    const sentA = runtime.sent?.limitA ?? 0;
    // Its power over every phase is what the probe's set-point gives them (a car a little below
    // its limit, or above it by the overdraw tolerance), the probe's set-point in force.
    const onAll =
      probeA !== undefined &&
      controlled(runtime) &&
      sentA <= probeA + CONFIRMED_EPS_A &&
      spreadA >= sentA - control.underDrawHeadroomA &&
      spreadA <= sentA + control.overdrawToleranceA;
    session.energyProbed = onAll ? 'widest' : 'ambiguous';
    session.underDrawSinceMs = undefined;
    // On every phase, what it drew before the probe under its steady set-point was an under-draw:
    // capped there as the under-draw rule caps (it rises again once it takes that).
    session.underDrawCapA = onAll
      ? Math.max(
          carMinimum(connector, runtime).minA,
          ceilStep(probed.drewA + control.underDrawHeadroomA, control.stepA),
        )
      : undefined;
    return undefined;
  }
  const sentLimit = runtime.sent?.limitA ?? 0;
  if (!energy.ambiguous || sentLimit <= 0 || changedAt === undefined || !controlled(runtime))
    return undefined;
  // The set-point steady for a while, and the reading's whole interval under it: counted from the
  // last change the car may have followed (one far above what it draws does not move it).
  const steadyAt = followedChangeAt(runtime, spreadA + control.underDrawMarginA) ?? changedAt;
  if (now - steadyAt < control.underDrawAfterMs || energy.fromMs < steadyAt + followMs) return undefined;
  if (spreadA >= sentLimit - control.underDrawMarginA) return undefined;
  const lowered = Math.floor((spreadA - PROBE_DROP_A) / control.stepA) * control.stepA;
  const probe = Math.max(lowered, carMinimum(connector, runtime).minA);
  // Too close to what it draws to show a fall.
  if (probe > spreadA - PROBE_DROP_A / 2) return undefined;
  return probe;
}

/**
 * When the newest kept set-point change that may have moved a car drawing below `belowA` went out:
 * one whose old or new set-point is below it (the oldest kept one's old set-point is not known).
 * The others (the 1 A moves of a share far above what the car takes, as the other loads come and
 * go) leave its draw as it was, and counted as changes they kept the energy probe from ever
 * starting (issue 45's home day: the probe came at 790 s, not 480 s).
 */
function followedChangeAt(runtime: ConnectorRuntime, belowA: number): number | undefined {
  const changes = runtime.changes;
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i];
    if (!change) continue;
    const oldA = i > 0 ? (changes[i - 1]?.limitA ?? 0) : 0;
    if (Math.min(oldA, change.limitA) < belowA) return change.atMs;
  }
  return undefined;
}

/**
 * What a connector state's current without a phase shows of its car's phases with its energy
 * register (evidence/energy-draw.ts unphasedShows): only a state whose register was read with the
 * current (`energyAt` as `measuredAt`, or neither stamped apart); a run is steady from when the
 * last set-point change was followed.
 */
function unphasedEvidence(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  state: ConnectorState,
  now: number,
): UnphasedShows | undefined {
  const amps = state.currentUnphasedA;
  const readAt = state.energyAt ?? state.measuredAt;
  if (
    amps === undefined ||
    state.energyWh === undefined ||
    readAt === undefined ||
    (state.measuredAt !== undefined && state.measuredAt !== readAt)
  ) {
    runtime.unphasedRun = undefined;
    return undefined;
  }
  return unphasedShows(
    site,
    connector,
    runtime,
    {
      amps,
      wh: state.energyWh,
      // Not after it arrived (a clock ahead would stretch the run's interval).
      atMs: Math.min(isoMs(readAt), now),
      key: registerKey(state),
    },
    state.status === 'Charging',
    settledFromMs(site, runtime),
    controlled(runtime) ? runtime.sent?.limitA : undefined,
  );
}

/** The session a register reading belongs to (energy-draw.ts RegisterPoint.key): its transaction, or none. */
function registerKey(state: ConnectorState): string {
  return state.transaction ? `tx:${state.transaction.transactionId}` : 'none';
}

/**
 * Its register showed its car on one phase this session (evidence/energy-draw.ts notePhasesShow),
 * and no delta since put it on another.
 */
function onePhaseShown(session: SessionRuntime): boolean {
  return session.energyPhases === 'one' && session.confirmedPhases?.length === 1;
}

/** Under control: online, its limit taken and not ignored, not overdrawing, not switched to one phase. */
function controlled(runtime: ConnectorRuntime): boolean {
  const state = runtime.state;
  const session = runtime.session;
  if (state?.online !== true || notUnderControl(runtime) || runtime.resend || runtime.pendingDecrease)
    return false;
  return !session.overdrawing && !session.onePhase && runtime.sent?.phases !== 1;
}

export class ConnectorObserver {
  /** Connector states of connectors the site does not have (each logged once, listed in the summary). */
  private readonly unknown = new Set<string>();
  private context: ObserverContext | undefined;
  /** The views of the last update, by connector index: one object each, written again by every update. */
  private readonly current: ConnectorView[] = [];
  /** How long each charger takes to follow a change of its limit (learned here, from its decreases). */
  readonly responseTimes = new ResponseTimes();

  constructor(private readonly logger: Logger) {}

  /** The connector views of the last update (`observeAll`), by connector index. */
  get views(): readonly ConnectorView[] {
    return this.current;
  }

  /** The observer stage of an update: each connector's records updated, then its view written. */
  observeAll(site: Site, runtimes: ConnectorRuntimes, now: number): void {
    const { connectors } = site;
    const views = this.current;
    for (let k = 0; k < connectors.length; k++) {
      const connector = connectors[k] as Connector;
      const runtime = runtimes.of(connector);
      this.observe(site, connector, runtime, now);
      views[k] = this.view(site, connector, runtime, now, views[k]);
    }
    views.length = connectors.length;
  }

  /** Keys of connectors that sent a state but are not in the site model. */
  get unknownConnectors(): ReadonlySet<string> {
    return this.unknown;
  }

  /**
   * Takes a connector state from the central system (status, transaction, measured currents,
   * online). Its currents are stamped with the state's `measuredAt` or `lastSeen` (else its
   * arrival); a state that repeats the currents, energy and power of the last one with a `lastSeen`
   * is not a new measurement. Returns the connector (undefined when the site does not have it), and whether
   * anything but the limit the charger confirmed changed (`limitInForce`).
   */
  accept(
    site: Site,
    runtimes: ConnectorRuntimes,
    input: ConnectorState,
    now: number,
    problems: string[],
  ): { connector: Connector; changed: boolean } | undefined {
    // Currents its connector's wiring cannot have carried (the charger's fault) are taken as not
    // measured (evidence/meter-plausibility.ts): the charger counts at its set-point there.
    const raw = input as Partial<ConnectorState> | null;
    const named =
      typeof raw === 'object' && raw !== null && typeof raw.chargePointId === 'string'
        ? runtimes.connectorOf(site, `${raw.chargePointId}/${raw.connectorId}`)
        : undefined;
    const refusal = named && chargerReadingRefusal(named, raw?.currentA, raw?.currentUnphasedA);
    const state = sanitizeConnectorState(input, problems);
    if (refusal) {
      const currentA = withoutRefused(state.currentA, refusal);
      if (currentA) state.currentA = currentA;
      if (refusal.unphased) delete state.currentUnphasedA;
    }
    const key = `${state.chargePointId}/${state.connectorId}`;
    const connector = runtimes.connectorOf(site, key);
    if (!connector) {
      if (state.connectorId !== 0 && !this.unknown.has(key)) {
        this.unknown.add(key);
        this.logger.warn(
          `connector ${key} is not in the site model: its load is not managed (only a meter that includes it sees it)`,
        );
      }
      return undefined;
    }
    const runtime = runtimes.of(connector);
    const changed = !sameButConfirmation(runtime.state, state);
    runtime.state = state;
    const confirmed = state.limitInForce;
    if (confirmed && confirmed.confirmedAt !== runtime.confirmed?.confirmedAt) {
      runtime.confirmed = {
        limitA: confirmed.limitA,
        sinceMs: isoMs(confirmed.since),
        confirmedAt: confirmed.confirmedAt,
        atMs: now,
      };
    }
    // A connector state is the whole picture: without currents, no draw is known (a reading from
    // the charger's meter brings one again). A current without a phase counts on every wired one,
    // or on L1 where its energy register shows one phase (evidence/energy-draw.ts unphasedShows).
    const shows =
      state.currentA === undefined && state.currentUnphasedA !== undefined
        ? unphasedEvidence(site, connector, runtime, state, now)
        : undefined;
    const chargerA =
      state.currentA ??
      unphasedOn(connector, state.currentUnphasedA, runtime.session.onePhase ? undefined : shows);
    const measuredAt = state.measuredAt ?? state.lastSeen;
    const seenMs = measuredAt === undefined ? Number.NaN : isoMs(measuredAt);
    const stamped = Number.isFinite(seenMs);
    const receivedMs = state.lastSeen === undefined ? Number.NaN : isoMs(state.lastSeen);
    if (chargerA) {
      // A state published again (a status, a limit confirmed) repeats the reading: not a new one. A
      // new reading with the same values is (its own `measuredAt`): a station that draws a steady
      // 32 A and reports so every 10 s is measured, not stale after connectorDrawStaleAfterMs and
      // then counted at its fallback while it draws 32 A (issue 45: its neighbours flapped).
      const identity = `state:${JSON.stringify([chargerA, state.energyWh ?? null, state.powerW ?? null, state.measuredAt ?? null])}`;
      takeDraw(
        connector,
        runtime,
        chargerA,
        stamped ? Math.min(seenMs, now) : now,
        identity,
        stamped,
        Number.isFinite(receivedMs) ? receivedMs : now,
        state.currentA === undefined,
        undefined,
        shows,
      );
      if (refusal) noteRefusal(runtime, refusal.why, now);
      return { connector, changed };
    }
    // No current: its energy register's delta since its last reading is its draw, where it gives one.
    // Only the register's own reading time (`energyAt`; from a flow without it, `measuredAt`) times
    // it: `lastSeen` moves with every status.
    const readAt = state.energyAt ?? state.measuredAt;
    const readMs = readAt === undefined ? Number.NaN : isoMs(readAt);
    const energy =
      Number.isFinite(readMs) && state.energyWh !== undefined
        ? registerDraw(
            site,
            connector,
            runtime,
            {
              wh: state.energyWh,
              atMs: Math.min(readMs, now),
              key: registerKey(state),
              ownTime: state.energyAt !== undefined,
            },
            // Switched to one phase, or its register showed one (and nothing more since): the most
            // one phase may carry (energy-draw.ts).
            runtime.session.onePhase === true || onePhaseShown(runtime.session)
              ? allowedAt(site, connector, runtime, 0, Math.min(readMs, now), true) +
                  site.control.overdrawToleranceA
              : undefined,
            this.logger,
            fewestPhasesOf(runtime.session),
          )
        : undefined;
    if (energy)
      takeDraw(
        connector,
        runtime,
        energy.mostA,
        energy.atMs,
        `energy:${energy.wh}@${energy.atMs}`,
        true,
        Number.isFinite(receivedMs) ? Math.max(receivedMs, energy.atMs) : now,
        false,
        {
          fromMs: energy.fromMs,
          leastA: energy.leastA,
          surelyA: energy.surelyA,
          counts: energy.counts,
          fromWh: energy.fromWh,
          wh: energy.wh,
          stepWh: energy.stepWh,
          ...(energy.ambiguous ? { ambiguous: true as const } : {}),
        },
      );
    else forgetDraw(runtime);
    if (refusal) noteRefusal(runtime, refusal.why, now);
    return { connector, changed };
  }

  /**
   * A confirmation of the limit a connector holds, from the flow (LoadManager.limitConfirmed):
   * kept as a `limitInForce` would be. Returns whether the site has the connector.
   */
  confirm(
    site: Site,
    runtimes: ConnectorRuntimes,
    input: { chargePointId: string; connectorId: number; limitA: number; since?: string },
    now: number,
  ): boolean {
    const connector = runtimes.connectorOf(site, `${input.chargePointId}/${input.connectorId}`);
    if (!connector || !Number.isFinite(input.limitA)) return false;
    const sinceMs = input.since === undefined ? now : isoMs(input.since);
    runtimes.of(connector).confirmed = {
      limitA: input.limitA,
      sinceMs: Number.isFinite(sinceMs) ? Math.min(sinceMs, now) : now,
      confirmedAt: new Date(now).toISOString(),
      atMs: now,
    };
    return true;
  }

  /** Updates the observer's records of one connector from what arrived since the last update. */
  observe(site: Site, connector: Connector, runtime: ConnectorRuntime, now: number): void {
    const { control } = site;
    // One context per site, not one per connector and update.
    if (this.context?.site !== site) this.context = { site, logger: this.logger };
    const context = this.context;
    const state = runtime.state;
    const online = state?.online === true;
    if (online && !runtime.wasOnline) runtime.resend = runtime.sent !== undefined;
    runtime.wasOnline = online;
    const status = state?.status;
    const wantsByStatus = online && carWantsCurrent(connector, runtime);
    if (wantsByStatus) runtime.wantingSinceMs ??= now;
    else runtime.wantingSinceMs = undefined;

    // A new car (transaction, or plug-in without one): phase detection, phase switches, the
    // under-draw cap and the overdraw record start over. The key is looked at again only when the
    // state or the wanting time it is made of changed (no string per connector and update).
    if (runtime.session.keyState !== state || runtime.session.keyWantingSinceMs !== runtime.wantingSinceMs) {
      const sessionKey = state?.transaction
        ? `tx:${state.transaction.transactionId}`
        : wantsByStatus
          ? `plug:${runtime.wantingSinceMs}`
          : 'none';
      if (runtime.session.key !== sessionKey) {
        runtime.session = newSession(sessionKey);
        // A pause of the previous car does not hold back the next one.
        forgetPause(runtime);
        const startedAtMs = state?.transaction ? isoMs(state.transaction.startedAt) : Number.NaN;
        if (Number.isFinite(startedAtMs)) runtime.session.startedAtMs = startedAtMs;
      }
      runtime.session.keyState = state;
      runtime.session.keyWantingSinceMs = runtime.wantingSinceMs;
    }
    const session = runtime.session;
    countRefusal(connector, runtime, this.logger);
    noteCarNeeds(runtime);
    const settling = settlingAfterSwitch(site, session, now);

    const draw = runtime.draw;
    const drawFresh = freshDraw(site, runtime, now);
    // Each sample is looked at once (phase detection and overdraw work on measurements, not on
    // updates), and only while it is fresh.
    const sample = drawFresh && drawFresh.seq !== session.lastSeq ? drawFresh : undefined;
    if (draw) session.lastSeq = draw.seq;
    const wired = wiredPhases(connector);
    runtime.followMs = this.responseTimes.followMs(site, connector.chargePointId);
    const took = settleDecrease(site, connector, runtime, now);
    if (took !== undefined) this.responseTimes.note(connector.chargePointId, took);

    // A car switched to one phase that still draws on another after the settle time: the switch
    // did not happen (a charger or car that ignores it). Counted on every phase and at what it
    // draws at once, and no more switching this session.
    if (sample && online && session.onePhase && session.switchedAtMs !== undefined) {
      const settledAt = session.switchedAtMs + site.pv.phaseSwitchSettleMs;
      const stray = wired.filter((i) => i !== 0 && (sample.chargerA[i] ?? 0) > ACTIVE_PHASE_A);
      if (sample.atMs >= settledAt && stray.length > 0) {
        refuseSwitching(session);
        session.candidatePhases = undefined;
        const phases = stray.map((i) => `L${i + 1}`).join(', ');
        const afterS = Math.round((sample.atMs - session.switchedAtMs) / 1000);
        this.logger.warn(
          `charger ${connector.key} still draws on its ${phases} ${afterS} s after it was switched to` +
            ' one phase: counted on every phase and at what it draws, no more phase switching this session',
        );
        flagOverdraw(context, connector, runtime, sample, true);
      }
    }

    // A charger read by its energy register only, switched to one phase before its first delta
    // showed how it reports: no delta can show that the switch was made (one phase at 18 A and three
    // at 6 A give the same), and a car that ignored it was counted on one phase, ramped to 32 A
    // there, and drew 28 A on three (22 A over a breaker: POPULATION=…,energyOnly PROPERTY_SEED=4712
    // PROPERTY_PATH=559). Back to three phases, and no more switching this session (as for a
    // charger that reports its current without a phase, phase-session.ts canSwitch).
    if (sample?.energy && session.onePhase && !session.phaseSwitchRefused) {
      refuseSwitching(session);
      session.candidatePhases = undefined;
      this.logger.warn(
        `charger ${connector.key} is read by its energy register only, which cannot show a switch to one phase: counted on every phase, no more phase switching this session`,
      );
    }

    // Phase detection: a car counts on fewer phases only once two samples at least
    // phaseDetectionMs apart (and none between them different) showed it; a phase not measured
    // counts as used; any phase seen carrying current later is added at once (the safe side).
    // A current without a phase is evidence of the car's phases only where its energy register
    // showed them (evidence/energy-draw.ts unphasedShows): without, the phases counted stay, and a
    // detection under way starts again at the next that shows (none between two may differ).
    // Nor is a register's delta evidence of fewer phases (evidence/energy-draw.ts: its `chargerA` is
    // the most each count of phases puts on each phase, highest on L1 for any car): it only adds a
    // phase. A three-phase car restarted at 6 A gave 23 Wh over two minutes, 1.7 A on L1 as one
    // phase and 0.6 A on L3 as three; taken as on L1 alone, it was counted at 0.1 A on its two
    // others while it drew 6.2 A there (1.6 A over a breaker for 35 s, FAULTS_SEED=20261125
    // FAULTS_PATH=3775 with a 30 s minimum off time).
    if (sample?.unphased && !sample.shows) {
      if (status === 'Charging' && !session.confirmedPhases) session.candidatePhases = undefined;
    } else if (sample && status === 'Charging' && !settling && !session.onePhase) {
      const active = wired.filter((i) => {
        const value = sample.chargerA[i];
        return value === null || value === undefined || value > ACTIVE_PHASE_A;
      });
      if (active.length > 0) {
        if (session.confirmedPhases) {
          const extra = active.filter((i) => !session.confirmedPhases?.includes(i));
          if (extra.length > 0) session.confirmedPhases = [...session.confirmedPhases, ...extra].sort();
        } else if (sample.energy) {
          session.candidatePhases = undefined;
        } else if (session.candidatePhases && sameList(session.candidatePhases, active)) {
          if (sample.atMs - (session.candidateFromMs ?? sample.atMs) >= control.phaseDetectionMs) {
            session.confirmedPhases = active;
          }
        } else {
          session.candidatePhases = active;
          session.candidateFromMs = sample.atMs;
        }
      }
    }

    // A register's settled delta at a steady set-point: what it shows of its car's phases
    // (evidence/energy-draw.ts registerPhasesShow). Two set-points apart at one phase: counted on
    // L1 from then on (the register's draw is taken on one phase while it fits the set-point there,
    // and a delta above that puts it back on every phase at once, above).
    if (sample?.energy && status === 'Charging' && controlled(runtime) && session.energyProbed !== 'widest') {
      const before = session.energyPhases;
      notePhasesShow(
        site,
        connector,
        session,
        { ...sample.energy, atMs: sample.atMs },
        runtime.sent?.limitA ?? 0,
        settledFromMs(site, runtime),
      );
      if (before === undefined && session.energyPhases === 'one') {
        session.confirmedPhases = [0];
        session.candidatePhases = undefined;
      }
    }

    observeOverdraw(context, connector, runtime, sample, now);
    noteUncontrolledDraw(connector, runtime, sample);
    // A meter that counts it ruled out counts of fewer phases over the delta's interval: its car
    // is on at least the fewest left (evidence/meter-phases.ts), every phase where that is all of
    // them; a charger that refuses its limits is counted at what its readings showed there.
    const fewest =
      sample?.energy && status === 'Charging'
        ? meterFewestPhases(connector, session, { ...sample.energy, atMs: sample.atMs })
        : undefined;
    if (fewest !== undefined && fewest > fewestPhasesOf(session)) {
      const every = fewest >= wiredPhases(connector).length;
      if (every) {
        session.energyProbed = 'widest';
        session.meterRoom = undefined;
      } else session.energyFewestPhases = fewest;
      const mostA = uncontrolledMostOf(session, every ? Number.POSITIVE_INFINITY : fewest);
      if (mostA !== undefined) session.uncontrolledMostA = mostA;
      this.logger.info(
        `charger ${connector.name}: a meter that counts it shows its car on ${every ? 'every phase' : `${fewest} phases or more`} (read by its energy register)`,
      );
    }
    noteOvershoot(site, connector, runtime, sample);

    // Under-drawing: a car well below its set-point for a while gets its draw plus a margin.
    const sentLimit = runtime.sent?.limitA ?? 0;
    const probe = energyProbe(site, connector, runtime, drawFresh, status, now);
    // A car the probe showed on every phase draws the power spread over them (a register's draw
    // derived before the probe's verdict still counts it at fewer: the safe side for its count, no
    // reason to lift its under-draw cap).
    const drawn =
      session.energyProbed === 'widest' && status === 'Charging' && drawFresh?.energy
        ? Math.max(0, ...drawFresh.energy.leastA.map((a) => a ?? 0))
        : drawnNow(status, drawFresh, chargerPhasesOf(site, connector, session, now));
    // A register's delta that began while its car may still have been following a change of its
    // set-point (a raise, the probe's lowering) is the average over the old and the new: it says
    // nothing of following either alone. Judged, the delta over the probe's raise read 13.8 A
    // under 16.3 A, its car was capped at 14.7 A, freed at the next and raised to 21.9 A, and a
    // keeper beside it held at 22 A for two minutes (issue 45's home layout, fleet mixed, seed
    // 500983: CP-3 at 807-958 s).
    const registerSpans =
      status === 'Charging' &&
      drawFresh?.energy !== undefined &&
      drawFresh.energy.fromMs < settledFromMs(site, runtime);
    if (probe === 'waiting' || (probe === undefined && registerSpans)) {
      // Its set-point was lowered to tell its car's phases: the reading under it decides. Or the
      // reading spans a change: the next one decides.
    } else if (probe !== undefined && !settling && !session.overdrawing) {
      session.underDrawCapA = probe;
      session.energyProbe = {
        atMs: now,
        drewA: Math.max(0, ...(drawFresh?.energy?.leastA ?? []).map((a) => a ?? 0)),
      };
    } else if (drawn !== undefined && sentLimit > 0 && !settling && !session.overdrawing) {
      const cap = session.underDrawCapA;
      if (cap !== undefined && drawn >= cap - control.underDrawHeadroomA / 2) {
        // It takes what it gets again: it may be raised (through the ramp).
        session.underDrawCapA = undefined;
        session.underDrawSinceMs = undefined;
      } else if (drawn < sentLimit - control.underDrawMarginA) {
        // The wait starts anew with a change of its set-point (its charger is given the time to
        // follow it), but not once a reading showed the car charging below a set-point its
        // charger had had its follow time for and it stays where it was: such a car takes what
        // it takes on its own, under any set-point above it. Restarted at every change, a car
        // that takes 8 A was counted at up to 26.8 A for 3.5 min through nine (issue 45's home
        // layout, seed 500983). A car that drew more since (ramping) starts it anew; one that
        // takes nothing is left to the car's minimum (evidence/car-minimum.ts tries more). It ends
        // in a cap only once such a reading came: a charger that follows in 50 s, read every
        // 40 s, was capped at its old set-point 60 s after a raise, before its car could show it
        // took it, and the cap flapped with every raise (test/unit/dlm/load-manager_spec.ts).
        const held = session.underDrawSinceMs;
        const changedAt = runtime.lastChangeAtMs ?? 0;
        const keep =
          held !== undefined &&
          (changedAt <= held ||
            (session.underDrawShown &&
              drawn > ACTIVE_PHASE_A &&
              drawn <= (session.underDrawFromA ?? drawn) + control.underDrawHeadroomA));
        const since = keep ? held : Math.max(held ?? now, changedAt);
        if (!keep) {
          session.underDrawFromA = drawn;
          session.underDrawShown = undefined;
        } else if (changedAt <= held) {
          // The most it drew before a change came: what it is held to after one.
          session.underDrawFromA = Math.max(session.underDrawFromA ?? drawn, drawn);
        }
        session.underDrawSinceMs = since;
        if (!session.underDrawShown) {
          const readAtMs = drawFresh?.atMs ?? now;
          const fromMs = (drawFresh?.energy?.fromMs ?? readAtMs) - followMsOf(site, runtime);
          if (offeredSurely(runtime, fromMs, readAtMs) > drawn + control.underDrawMarginA)
            session.underDrawShown = true;
        }
        if (session.underDrawShown && now - since >= control.underDrawAfterMs) {
          session.underDrawCapA = Math.max(
            carMinimum(connector, runtime).minA,
            ceilStep(drawn + control.underDrawHeadroomA, control.stepA),
          );
        }
      } else {
        session.underDrawSinceMs = undefined;
      }
    } else if (status !== 'Charging' && status !== 'SuspendedEV') {
      session.underDrawCapA = undefined;
      session.underDrawSinceMs = undefined;
    }
    noteCarMinimum(site, connector, runtime, state, drawn, now);
  }

  /**
   * How the connector counts in this update, from the records as `observe` left them (changes no
   * record). Written into `into`, the connector's view of the last update, when there is one: every
   * field is set again, so nothing of the last update is left (`observeAll` keeps one per connector;
   * no one else keeps a view past its update).
   */
  view(
    site: Site,
    connector: Connector,
    runtime: ConnectorRuntime,
    now: number,
    into?: ConnectorView,
  ): ConnectorView {
    const { control } = site;
    const state = runtime.state;
    const known = state !== undefined;
    const online = state?.online === true;
    const status = state?.status;
    const wantsByStatus = online && carWantsCurrent(connector, runtime);
    const session = runtime.session;
    const drawFresh = freshDraw(site, runtime, now);
    const chargerPhases = chargerPhasesOf(site, connector, session, now);
    const gridPhases = gridPhasesFor(connector, chargerPhases);
    // A car whose phases are not measured yet counts on all wired phases, for the capacity (the
    // safe side) and, by default, for the unbalance too: the unbalance rule is about sustained
    // load, and the detection takes only phaseDetectionMs, during which new cars charge at their
    // minimum. `strictUnbalance` counts such a car on its L1 for the unbalance (the worst case
    // there), which holds cars back until their phases are known.
    const unbalancePhases =
      control.strictUnbalance && connector.phases === 3 && !session.onePhase && !session.confirmedPhases
        ? gridPhasesFor(connector, ONE_PHASE)
        : gridPhases;
    const drawGridA = drawFresh ? drawGrid(connector, drawFresh) : undefined;
    const sentLimit = runtime.sent?.limitA ?? 0;

    // Floors: what it may draw whatever we say (most connectors have none: one shared list of zeros).
    let floorA: Readonly<Triple> = NO_FLOOR;
    // Not under our control, it draws what it does on its own; one that never connected, nothing.
    const neverConnected = state?.neverConnected === true;
    // A charger that refused its limit (or never answered) is not under control either, from the
    // moment the profile manager said so: online, it is counted at what it may draw on its own.
    const uncontrolled =
      (!known || !online) && !neverConnected
        ? offlineReserve(site, connector, runtime, now)
        : online && state?.limitFailed
          ? failedLimitReserve(connector, runtime, drawFresh)
          : online && session.ignoresLimit
            ? ignoredLimitReserve(connector, runtime, drawFresh)
            : undefined;
    if (uncontrolled) {
      const floor = triple(0);
      const on = online ? uncontrolledConductors(connector, runtime) : conductorsOf(connector);
      for (const p of on) floor[p] = uncontrolled.amps;
      floorA = floor;
    }
    // An overdrawing charger is counted at what it drew; on a phase it counts on but drew nothing on
    // (at most ACTIVE_PHASE_A: a meter's offset; it was just switched up), at the most it drew. Not
    // one whose limit failed (caught before it failed): what it draws is its count's own rule.
    let overdrawExcessA = 0;
    if (session.overdrawing && session.overdrawFloorA && !(online && state?.limitFailed)) {
      const overdrawFloor = session.overdrawFloorA;
      const highest = Math.max(...overdrawFloor);
      // Started again after its pause showed nothing (its floor 0 then, evidence/overdraw.ts), at
      // its set-point and what it drew above one when caught: IT seed 9703 path 1126, a charger
      // offering 3 A more than told, caught at 9 A under 6 A, paused, started at 6 A and counted
      // at 6 A; a neighbour raised into the 3 A it took put 1.3 A over a breaker for 35 s.
      const restartedA = sentLimit > 0 && session.overdrawAboveA ? sentLimit + session.overdrawAboveA : 0;
      overdrawExcessA = Math.max(0, highest - sentLimit, restartedA - sentLimit);
      floorA = floorA.map((value, p) => {
        const drew = overdrawFloor[p] ?? 0;
        const loads = gridPhases.includes(p as GridPhase);
        const idle = !(drew > ACTIVE_PHASE_A) && loads;
        return Math.max(value, idle ? highest : drew || 0, loads ? restartedA : 0);
      }) as Triple;
    }

    // Under control, a reading above its steady set-point by more than its car's overshoot (within
    // the overdraw tolerance: no overdraw): counted at what it draws on those phases.
    if (!uncontrolled && !session.overdrawing && drawFresh) {
      const beyondOvershoot = drawnBeyondOvershoot(site, connector, runtime, drawFresh);
      if (beyondOvershoot)
        floorA = floorA.map((value, p) => Math.max(value, beyondOvershoot[p] ?? 0)) as Triple;
    }

    // A register's delta that may mean more than the set-point allows (evidence/overdraw.ts
    // `registerBeyond`): counted at the most it may mean on each phase.
    // That count takes room from the others only: its own set-point is judged beside what its
    // register shows it surely draws (`ownFloorA`, allocation/state.ts), or it would be paused by
    // a draw it may not have, and a charger paused shows no delta that clears it (a lone
    // three-phase car at 12 A counted on one phase was paused for good).
    const beyond = session.registerBeyondA;
    let ownFloorA: Readonly<Triple> | undefined;
    // Whether that count was shown by a delta judged over a settled set-point (or above one this
    // session): where it fits alone but not beside what no limit lowers, it is paused
    // (allocation/state.ts violatedOwn); the count before its first settled delta is not.
    let ownFloorJudged = false;
    if (beyond && !uncontrolled && !session.overdrawing) {
      const before = floorA;
      const surely = drawFresh?.energy ? toGrid(connector, drawFresh.energy.surelyA) : undefined;
      floorA = floorA.map((value, p) => Math.max(value, beyond[p] ?? 0)) as Triple;
      const own = before.map((value, p) =>
        Math.max(value, Math.min(surely?.[p] ?? 0, floorA[p] ?? 0)),
      ) as Triple;
      if (own.some((value, p) => value < (floorA[p] ?? 0))) {
        ownFloorA = own;
        // Judged, and what it surely draws below its minimum on every phase: a car on three phases
        // would be under any set-point it may be given, and the phases probe, which lowers it to
        // just below that, cannot (a car at its own 11 A under 16 A on three phases, which the
        // probe tells from one phase at 33 A, is not paused for it: seed 6's CP-02, 18.6 -> 4.9 kWh).
        ownFloorJudged =
          session.registerBeyondJudged === true && Math.max(...own) < carMinimum(connector, runtime).minA;
      }
    }

    // Read by its register alone, never shown at its set-point, and a delta this session put it
    // above one, none now: counted at its set-point and that much more on those phases, as that
    // delta was, for the others only (a charger offering 3 A more than told, its one-phase car at
    // 8.9 A under 6 A, paused and started again: counted at 6 A, the others were started into what
    // it took, 2 A over a breaker for a second, PROPERTY_SEED=20261123 PROPERTY_PATH=3670).
    const registerAboveA = session.registerAboveA;
    if (registerAboveA && !beyond && !uncontrolled && !session.overdrawing && sentLimit > 0) {
      const before = floorA;
      floorA = floorA.map((value, p) =>
        (registerAboveA[p] ?? 0) > 0 && gridPhases.includes(p as GridPhase)
          ? Math.max(value, sentLimit + (registerAboveA[p] ?? 0))
          : value,
      ) as Triple;
      if (floorA.some((value, p) => value > (before[p] ?? 0)) && !ownFloorA) {
        ownFloorA = before;
        ownFloorJudged = true;
      }
    }

    let capA = connector.maxA;
    let capReason: Reason | undefined;
    const operatorA = runtime.state?.operatorLimitA;
    if (operatorA !== undefined && operatorA < capA) {
      capA = Math.max(0, operatorA);
      capReason = [say('backendAllows', { amps: capA })];
    }
    const carMaxA = runtime.state?.carNeeds?.maxA;
    if (carMaxA !== undefined && carMaxA < capA) {
      capA = carMaxA;
      capReason = [say('carTakesAtMost', { amps: carMaxA })];
    }
    if (session.underDrawCapA !== undefined && session.underDrawCapA < capA) {
      capA = session.underDrawCapA;
      const probe = session.energyProbed === undefined ? session.energyProbe : undefined;
      capReason = probe
        ? [say('phasesProbe', { amps: probe.drewA.toFixed(1) })]
        : [say('carDraws', { amps: (drawnNow(status, drawFresh, chargerPhases) ?? 0).toFixed(1) })];
    }
    // A charger whose limit failed does not get its set-point: its car takes what the charger offers
    // on its own, what it is counted at (failedLimitReserve). A share above that is left unused and,
    // counted at its set-point, kept from the others (issue 45: a refuser taking 6.2 A was given 13.3 A).
    if (uncontrolled && online && state?.limitFailed && uncontrolled.amps < capA) {
      capA = uncontrolled.amps;
      capReason = uncontrolled.why;
    }
    const held = notRaisedAbove(runtime, online, carMinimum(connector, runtime).minA);
    if (held && held.capA < capA) {
      capA = held.capA;
      capReason = held.why;
    }

    const mode = effectiveMode(site, connector, runtime);
    const { keepOn, keepOff } = minimumTimes(control, runtime, now);
    // Every field, those the later stages set too, into the one object per connector: views are
    // made for every connector on every update, and one made anew each time was a third of what an
    // update allocated (the garbage collector's work grew with it).
    const view = into ?? newView();
    view.online = online;
    view.uncontrolled = uncontrolled;
    view.known = known;
    view.wantsByStatus = wantsByStatus;
    view.mode = mode;
    view.priority = effectivePriority(connector, runtime);
    view.chargerPhases = chargerPhases;
    view.gridPhases = gridPhases;
    view.unbalancePhases = unbalancePhases;
    view.drawGridA = drawGridA;
    view.unphased = drawFresh?.unphased === true;
    view.fromEnergy = drawFresh?.energy !== undefined;
    view.floorA = floorA;
    view.ownFloorA = ownFloorA;
    view.ownFloorJudged = ownFloorJudged;
    // Paused, a start of one seen drawing more than told: its minimum and that much more must fit,
    // else it is started, counted at its set-point and the rest for the others only, into room its
    // car overfills (closed-loop property, PROPERTY_SEED=20261201 PROPERTY_PATH=7361).
    view.startExtraA =
      registerAboveA && !uncontrolled && !(sentLimit > 0)
        ? Math.max(0, ...gridPhases.map((p) => registerAboveA[p] ?? 0))
        : 0;
    view.capA = capA;
    view.capReason = capReason;
    view.notWanting = undefined;
    view.pausedByManager = false;
    view.overdrawExcessA = overdrawExcessA;
    view.phasesOut = connector.phases === 1 || session.onePhase ? 1 : 3;
    view.keepOn = keepOn;
    view.keepOff = keepOff;
    view.countsForPv = (mode === 'pv' || mode === 'minpv') && status !== 'SuspendedEV';
    const minimum = carMinimum(connector, runtime);
    view.minA = minimum.minA;
    view.minFromCar = minimum.why !== undefined;
    view.minWhy = minimum.why;
    view.holdReason = undefined;
    view.sentA = sentLimit;
    view.neverConnected = neverConnected;
    view.resting = status === 'SuspendedEV';
    view.tookNothing = view.resting || (sentLimit === 0 && tookNothingWhenLastOffered(runtime.session));
    // A car offered more than before takes its charger's follow time to show whether it takes it.
    const raisedAtMs =
      (runtime.previousSent?.limitA ?? 0) < sentLimit - EPS ? runtime.lastChangeAtMs : undefined;
    view.tryingRaise = raisedAtMs !== undefined && now - raisedAtMs < followMsOf(site, runtime);
    view.sinceMs = session.startedAtMs ?? runtime.wantingSinceMs ?? Number.POSITIVE_INFINITY;
    view.energyWh = sessionEnergyWh(state);
    // Last: the plan reads the view's mode, phases, minimum and wanting.
    view.plan = departurePlan(site, runtime, view, now);
    return view;
  }
}

/**
 * A reading (or some of its values) refused as impossible since the last update is counted into the session it came in
 * (a new car's state that carried it starts that car's session first) and logged once per
 * session: the summary says how many were refused and the newest why.
 */
function countRefusal(connector: Connector, runtime: ConnectorRuntime, logger: Logger): void {
  const refused = takeRefusal(runtime);
  if (!refused) return;
  const session = runtime.session;
  session.refusedReadings = (session.refusedReadings ?? 0) + 1;
  session.refusedWhy = refused.why;
  if (session.refusedReadings === 1)
    logger.warn(
      `${english(refused.why)}: reading refused, taken as not measured (${connector.key} counted at its set-point there); logged once this session`,
    );
}
