/**
 * The PV surplus as measured (modes/pv.ts decides with it): grid export plus what the pv cars draw, less
 * the residual margin, with the home battery's share; a car below a grid meter of the other loads
 * only taken from that meter's export.
 */
import { ACTIVE_PHASE_A } from '../../electrical';
import type { Logger } from '../../log';
import { drawInForceAt, type Measurements } from '../evidence/measurements';
import type { ConnectorRuntime, ConnectorView } from '../parts';
import { sum, type Triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import type { Site } from '../site/model';

/** The PV figures of the summary (`pv`): the grid, the battery, the surplus and what the pv cars draw. */
export interface PvSummary {
  /** Grid power (import positive), W, when the grid meter is fresh. */
  gridPowerW?: number;
  batteryPowerW?: number;
  batterySocPercent?: number;
  /** Power the pv/minpv connectors may use together, W (absent when unknown). */
  surplusW?: number;
  /** What the pv/minpv connectors draw now, W. */
  chargersPowerW: number;
  /** The home battery is above its buffer SoC: it covers short dips of the pv cars' minimum. */
  batteryBuffer?: boolean;
}

/** What the decision looks at in one update. */
export interface PvContext {
  site: Site;
  logger: Logger;
  measurements: Measurements;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  /** Connector indexes in keep order. */
  order: readonly number[];
}

/** What one measurement of the surplus found. */
export interface SurplusMeasure {
  surplusW: number | undefined;
  bufferW: number;
  /** The battery has priority (kept for the next update's band). */
  batteryAhead: boolean;
  summary: PvSummary;
}

/** How far above its priority SoC a battery that had priority keeps it, percentage points. */
const BATTERY_PRIORITY_BAND_PERCENT = 1;

/**
 * Whether the home battery charges before the cars: below its priority SoC, and, once it had
 * priority (`hadPriority`), until BATTERY_PRIORITY_BAND_PERCENT above it.
 */
export function batteryHasPriority(
  socPercent: number,
  prioritySocPercent: number,
  hadPriority: boolean,
): boolean {
  return (
    socPercent < prioritySocPercent ||
    (hadPriority && socPercent < prioritySocPercent + BATTERY_PRIORITY_BAND_PERCENT)
  );
}

/**
 * The surplus now, W (undefined without a fresh grid meter reading), what a home battery above its
 * buffer SoC gives now (W, discharging), whether the battery has priority now, and the PV figures
 * the summary shows. `settings`: the residual and priority SoC in force (a command may override
 * the site's); `batteryAhead`: the battery had priority at the last update.
 */
export function measureSurplus(
  context: PvContext,
  now: number,
  settings: { residualPowerW: number; prioritySocPercent: number; banked?: boolean },
  batteryAhead: boolean,
): SurplusMeasure {
  const { site, views, measurements } = context;
  const { pv } = site;
  const { residualPowerW } = settings;
  const prioritySoc = settings.prioritySocPercent;
  let gridPowerW: number | undefined;
  let gridAtMs: number | undefined;
  if (pv.gridCircuitIndex !== undefined) {
    const circuit = site.circuits[pv.gridCircuitIndex];
    const meter = circuit?.meter ? measurements.peekMeter(circuit.id) : undefined;
    const power = meter?.powerW;
    // A meter that said it is stale (evidence/measurements.ts reportStale) gives no surplus, as one too old.
    if (circuit?.meter && power && !meter?.reportedStale && now - power.atMs <= circuit.meter.staleAfterMs) {
      gridPowerW = power.value;
      gridAtMs = power.atMs;
    }
  }
  const battery = measurements.battery;
  const batteryFresh =
    battery &&
    now - battery.atMs <= (site.circuits[pv.gridCircuitIndex ?? -1]?.meter?.staleAfterMs ?? 30_000);
  const batteryW = batteryFresh ? battery?.powerW : undefined;
  const batterySoc = batteryFresh ? battery?.socPercent : undefined;
  // Below its priority SoC the battery charges first; once it has, it keeps that until
  // BATTERY_PRIORITY_BAND_PERCENT above it: a SoC that the cars' start stops rising at, and a
  // dip pushes back under the line, would hand over and take back its charge power (up to
  // batteryMaxChargeW) every time it crosses it.
  const batteryFirst = batterySoc !== undefined && batteryHasPriority(batterySoc, prioritySoc, batteryAhead);
  // Above its buffer SoC (and not first) the battery evens out what the meter's lag and short
  // dips leave: no residual margin is kept back, and what it gives to cover a dip is no shortfall.
  const buffering =
    batteryW !== undefined &&
    batterySoc !== undefined &&
    !batteryFirst &&
    batterySoc > pv.batteryBufferSocPercent;
  // A grid meter of the other loads only does not see the cars below it (fed beside it): what
  // they draw is taken from its export here; one that includes them has taken it already.
  const gridIndex = pv.gridCircuitIndex;
  const besideMeter =
    gridIndex !== undefined && site.circuits[gridIndex]?.meter?.location === 'otherLoadsOnly';
  let chargersPowerW = 0;
  let unseenW = 0;
  views.forEach((view, k) => {
    if (!view.drawGridA) return;
    const pvCar = view.mode === 'pv' || view.mode === 'minpv';
    const unseen = besideMeter && site.connectors[k]?.path.includes(gridIndex as number) === true;
    if (!pvCar && !unseen) return;
    const drawW = carDrawW(site, k, view.drawGridA, context.runtimes.at(k), gridAtMs);
    if (pvCar) chargersPowerW += drawW;
    if (unseen) unseenW += drawW;
  });
  let surplusW: number | undefined;
  if (gridPowerW !== undefined) {
    // Nor while the battery holds surplus the cars did not take (modes/battery-bank.ts) and does not
    // charge first: it takes the meter's lag both ways, from the cars' own.
    const noResidual = buffering || (settings.banked === true && !batteryFirst && batteryW !== undefined);
    surplusW = -gridPowerW - unseenW + chargersPowerW - (noResidual ? 0 : residualPowerW);
    if (batteryW !== undefined) {
      // Discharging is never surplus; charging is, unless the battery has priority below its SoC,
      // in which case also what it could take on top is kept back for it.
      if (batteryW < 0) surplusW += batteryW;
      else if (!batteryFirst) surplusW += batteryW;
      if (batteryFirst) surplusW -= Math.max(0, pv.batteryMaxChargeW - Math.max(0, batteryW));
    }
  }
  const summary: PvSummary = {
    gridPowerW,
    batteryPowerW: batteryW,
    batterySocPercent: batterySoc,
    surplusW: surplusW === undefined ? undefined : Math.round(surplusW),
    chargersPowerW: Math.round(chargersPowerW),
    ...(buffering ? { batteryBuffer: true } : {}),
  };
  return {
    surplusW,
    bufferW: buffering && surplusW !== undefined ? Math.max(0, -(batteryW ?? 0)) : 0,
    batteryAhead: batterySoc !== undefined ? batteryFirst : batteryAhead,
    summary,
  };
}

/**
 * What a car counts as drawing in the surplus, W (a pv car, or one a grid meter of the other loads only does not see): what it drew when the grid meter measured
 * (its charger's measurement in force then), or, when it was raised after that measurement and has
 * not reported since, its new set-point on the phases it draws on. The grid meter sees a raise a
 * charger's own meter reports only up to a meter interval later: taking the old draw with the new
 * grid reading made the surplus look smaller by the raise, so the car was lowered again at once
 * and raised 30 s later, over and over. A decrease the other way round: the charger's newer
 * reading with the grid meter's older one made the surplus look smaller by the decrease, and a car
 * a cloud lowered from 16 A to 11 A went down to 6 A and ramped back.
 */
function carDrawW(
  site: Site,
  k: number,
  drawGridA: Readonly<Triple>,
  runtime: ConnectorRuntime | undefined,
  gridAtMs: number | undefined,
): number {
  let measuredW = sum(drawGridA) * site.voltageV;
  let measuredAt = runtime?.draw?.atMs;
  const connector = site.connectors[k];
  if (runtime && connector && gridAtMs !== undefined && measuredAt !== undefined && measuredAt > gridAtMs) {
    const then = drawInForceAt(connector, runtime, gridAtMs);
    if (then) {
      measuredW = then.totalA * site.voltageV;
      measuredAt = then.atMs;
    }
  }
  const sent = runtime?.sent?.limitA ?? 0;
  const changedAt = runtime?.lastChangeAtMs;
  // A reading taken within the time a charger is given to follow a change (decreaseSettleMs) may
  // still show the old current: the car follows a few seconds after its charger's answer, and the
  // grid meter's next reading already sees it.
  if (
    !runtime ||
    measuredAt === undefined ||
    changedAt === undefined ||
    measuredAt >= changedAt + site.control.decreaseSettleMs
  )
    return measuredW;
  if (!(sent > (runtime.previousSent?.limitA ?? 0))) return measuredW;
  const drawing = drawGridA.filter((a) => a > ACTIVE_PHASE_A).length;
  return Math.max(measuredW, sent * drawing * site.voltageV);
}
