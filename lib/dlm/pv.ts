/**
 * PV surplus stage: the surplus (grid export plus what the pv cars draw, minus the residual, with
 * the battery's share), and which pv-mode connectors may charge from it, enabled and disabled one
 * at a time in keep order, each after its own delay (the hysteresis that keeps two cars from both
 * starting on a surplus that fits one). It owns the PV settings a command changed, the PV state
 * the summary shows, and the PV part of the session record.
 */
import { IEC_61851_MINIMUM_A } from '../electrical';
import type { Logger } from '../log';
import type { DlmCommand } from './commands';
import { commandNumber } from './inputs';
import type { Measurements } from './measurements';
import type { ConnectorView } from './parts';
import { canSwitch, switchPhases } from './phase-switching';
import { EPS, sum } from './phases';
import type { ConnectorRuntimes } from './runtime';
import type { Site } from './site-model';
import type { PvSummary } from './summary';

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

export class PvSurplus {
  private overrides: { residualPowerW?: number; batteryPrioritySocPercent?: number } = {};
  private current: PvSummary | undefined;

  /** The PV figures of the last update (undefined when no connector uses PV and no grid meter is set). */
  get state(): PvSummary | undefined {
    return this.current;
  }

  /** A pv command: both values checked before either is taken. */
  command(command: Extract<DlmCommand, { type: 'pv' }>): string {
    // A PV budget that is not a number would let pv cars charge from the grid.
    const residualPowerW =
      command.residualPowerW === undefined
        ? undefined
        : commandNumber(command.residualPowerW, 'pv residualPowerW', { min: 0 });
    const prioritySoc =
      command.batteryPrioritySocPercent === undefined
        ? undefined
        : commandNumber(command.batteryPrioritySocPercent, 'pv batteryPrioritySocPercent', {
            min: 0,
            max: 100,
          });
    if (residualPowerW !== undefined) this.overrides.residualPowerW = residualPowerW;
    if (prioritySoc !== undefined) this.overrides.batteryPrioritySocPercent = prioritySoc;
    return 'PV settings changed';
  }

  /** Computes the surplus, enables and disables pv connectors; returns the PV budget of the allocation. */
  decide(context: PvContext, now: number): { budgetW: number } {
    const { site, views, runtimes } = context;
    const { pv } = site;
    const usesPv = views.some((view) => view.mode === 'pv' || view.mode === 'minpv');
    if (!usesPv && pv.gridCircuitIndex === undefined) {
      this.current = undefined;
      return { budgetW: Number.POSITIVE_INFINITY };
    }
    const surplusW = this.surplus(context, now);

    // Enable and disable pv-mode connectors one at a time, in keep order, so that two cars do not
    // both start on a surplus that fits one (and then both stop).
    const order = context.order;
    const minPowerW = (k: number, phases: number) =>
      (site.connectors[k]?.minA ?? IEC_61851_MINIMUM_A) * phases * site.voltageV;
    const phasesIfStarted = (k: number) => {
      const view = views[k];
      const connector = site.connectors[k];
      if (!view || !connector) return 3;
      return view.phasesOut === 1 ? 1 : view.gridPhases.length;
    };
    const available = surplusW ?? 0;
    // What the charging pv/minpv cars need at their minimum (a car in SuspendedEV needs nothing).
    let committedW = 0;
    for (const k of order) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!view || !runtime || !view.wantsByStatus || !view.countsForPv) continue;
      if (view.mode === 'minpv' || (view.mode === 'pv' && runtime.session.pvEnabled)) {
        committedW += minPowerW(k, phasesIfStarted(k));
      }
    }
    let left = available - committedW;
    for (const k of order) {
      const view = views[k];
      const runtime = runtimes.at(k);
      const connector = site.connectors[k];
      if (!view || !runtime || !connector || view.mode !== 'pv') continue;
      const session = runtime.session;
      if (!view.wantsByStatus) {
        session.pvEnabled = false;
        session.pvEnableSinceMs = undefined;
        session.pvDisableSinceMs = undefined;
        continue;
      }
      if (session.pvEnabled) continue;
      const switchable = connector.canSwitchPhases && canSwitch(site, connector, runtime);
      const need = minPowerW(k, switchable ? 1 : phasesIfStarted(k));
      if (surplusW !== undefined && left >= need) {
        session.pvEnableSinceMs ??= now;
        left -= need;
        if (now - session.pvEnableSinceMs >= pv.enableDelayMs) {
          session.pvEnabled = true;
          session.pvEnableSinceMs = undefined;
          session.pvDisableSinceMs = undefined;
          if (switchable && !session.onePhase && left + need < minPowerW(k, phasesIfStarted(k))) {
            // Not charging yet: switching now interrupts nothing.
            switchPhases(site, context.logger, connector, runtime, true, now);
          }
        }
      } else {
        session.pvEnableSinceMs = undefined;
      }
    }
    let deficit = committedW - available;
    for (const k of [...order].reverse()) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!view || !runtime || view.mode !== 'pv' || !runtime.session.pvEnabled) continue;
      const session = runtime.session;
      if (deficit > EPS) {
        session.pvDisableSinceMs ??= now;
        deficit -= minPowerW(k, phasesIfStarted(k));
        if (now - session.pvDisableSinceMs >= pv.disableDelayMs) {
          session.pvEnabled = false;
          session.pvDisableSinceMs = undefined;
          view.pausedByManager = true;
        }
      } else {
        session.pvDisableSinceMs = undefined;
      }
    }
    return { budgetW: surplusW === undefined ? 0 : Math.max(0, surplusW) };
  }

  /** The surplus now, W (undefined without a fresh grid meter reading); keeps the PV state. */
  private surplus(context: PvContext, now: number): number | undefined {
    const { site, views, measurements } = context;
    const { pv } = site;
    const residualPowerW = this.overrides.residualPowerW ?? pv.residualPowerW;
    const prioritySoc = this.overrides.batteryPrioritySocPercent ?? pv.batteryPrioritySocPercent;
    let gridPowerW: number | undefined;
    if (pv.gridCircuitIndex !== undefined) {
      const circuit = site.circuits[pv.gridCircuitIndex];
      const power = circuit?.meter ? measurements.peekMeter(circuit.id)?.powerW : undefined;
      if (circuit?.meter && power && now - power.atMs <= circuit.meter.staleAfterMs) gridPowerW = power.value;
    }
    const battery = measurements.battery;
    const batteryFresh =
      battery &&
      now - battery.atMs <= (site.circuits[pv.gridCircuitIndex ?? -1]?.meter?.staleAfterMs ?? 30_000);
    const batteryW = batteryFresh ? battery?.powerW : undefined;
    const batterySoc = batteryFresh ? battery?.socPercent : undefined;
    let chargersPowerW = 0;
    views.forEach((view) => {
      if ((view.mode === 'pv' || view.mode === 'minpv') && view.drawGridA) {
        chargersPowerW += sum(view.drawGridA) * site.voltageV;
      }
    });
    let surplusW: number | undefined;
    if (gridPowerW !== undefined) {
      surplusW = -gridPowerW + chargersPowerW - residualPowerW;
      if (batteryW !== undefined) {
        // Discharging is never surplus; charging is, unless the battery has priority below its SoC,
        // in which case also what it could take on top is kept back for it.
        const batteryFirst = batterySoc !== undefined && batterySoc < prioritySoc;
        if (batteryW < 0) surplusW += batteryW;
        else if (!batteryFirst) surplusW += batteryW;
        if (batteryFirst) surplusW -= Math.max(0, pv.batteryMaxChargeW - Math.max(0, batteryW));
      }
    }
    this.current = {
      gridPowerW,
      batteryPowerW: batteryW,
      batterySocPercent: batterySoc,
      surplusW: surplusW === undefined ? undefined : Math.round(surplusW),
      chargersPowerW: Math.round(chargersPowerW),
    };
    return surplusW;
  }
}
