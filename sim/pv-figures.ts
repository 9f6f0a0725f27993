/**
 * The PV figures of a simulated day, summed each simulated second from the simulator and the
 * set-points: what the cars took of the surplus against the best possible, where the rest went
 * (`pv-losses.ts`), and what the `pv`-mode cars took from the grid or the home battery.
 */
import type { SetPoint } from '../lib/contracts';
import { batteryHasPriority } from '../lib/dlm/modes/pv-surplus';
import { PV_LOSS_CAUSES, type PvLossCause, pvLossShares } from './pv-losses';
import type { SiteSimulator } from './site';

const HOUR_MS = 3_600_000;

export interface PvFigures {
  pvProducedWh: number;
  /**
   * The surplus available to the cars, each second: PV − house, less the battery's priority share
   * while it has priority (what it would store if no car drew: PV − house up to its maximum charge).
   */
  surplusWh: number;
  /** What the cars could have taken of it (car and connector maximums, plugged in, not full). */
  bestPossibleWh: number;
  /** What the cars took of it: each second the smaller of the surplus and what the cars drew. */
  carsFromPvWh: number;
  /** carsFromPvWh / bestPossibleWh. */
  share: number;
  /** Grid import while a `pv`-mode car charged, up to what the pv-mode cars drew, Wh. */
  gridImportDuringPvWh: number;
  /**
   * What the home battery gave the `pv`-mode cars: its discharge while they charged, up to what
   * they drew beyond the grid import (PV covers the house first), Wh.
   */
  batteryToPvCarsWh: number;
  /** Energy the `pv`-mode cars took, Wh. */
  pvModeCarsWh: number;
  gridImportWh: number;
  gridExportWh: number;
  batteryEndSocPercent?: number;
  /** bestPossibleWh − carsFromPvWh by cause (`PV_LOSS_CAUSES`), Wh. */
  lossWh: Record<PvLossCause, number>;
}

/** Sums the PV figures second by second. */
export class PvDayAccount {
  readonly figures: PvFigures = {
    pvProducedWh: 0,
    surplusWh: 0,
    bestPossibleWh: 0,
    carsFromPvWh: 0,
    share: 0,
    gridImportDuringPvWh: 0,
    batteryToPvCarsWh: 0,
    pvModeCarsWh: 0,
    gridImportWh: 0,
    gridExportWh: 0,
    lossWh: Object.fromEntries(Object.keys(PV_LOSS_CAUSES).map((cause) => [cause, 0])) as Record<
      PvLossCause,
      number
    >,
  };

  /**
   * `pvKeys`: the connectors whose set-point follows the surplus (`pv` and `minpv`); `pvModeKeys`:
   * those in `pv` mode (surplus only); `prioritySoc`: below it the battery's charge is not surplus.
   */
  /** The battery charged first at the last step (batteryHasPriority). */
  private batteryHadPriority = false;

  constructor(
    private readonly pvKeys: ReadonlySet<string>,
    private readonly pvModeKeys: ReadonlySet<string>,
    private readonly prioritySoc: number,
    private readonly maxA: (key: string) => number,
  ) {}

  /** One step of `stepMs` that just ran. */
  step(s: SiteSimulator, setPoints: readonly SetPoint[], stepMs: number): void {
    const figures = this.figures;
    const hours = stepMs / HOUR_MS;
    const stats = s.chargerStats();
    const batteryW = s.batteryPowerW;
    const soc = s.batterySocPercent;
    // While the battery charges first (the load manager's own rule), its share of PV − house is
    // what it would store if no car drew: up to its maximum charge. What a car draws of that share
    // is the battery's loss, not surplus taken (the battery then stores less, and the old account,
    // which took the battery's actual charge off, counted it as surplus taken).
    const batteryFirst =
      soc !== undefined && batteryHasPriority(soc, this.prioritySoc, this.batteryHadPriority);
    if (soc !== undefined) this.batteryHadPriority = batteryFirst;
    const houseSurplusW = s.pvPowerW - s.otherLoadsW;
    const batteryShareW = batteryFirst ? Math.min(Math.max(0, houseSurplusW), s.batteryMaxChargeW) : 0;
    const surplusW = Math.max(0, houseSurplusW - batteryShareW);
    const pvStats = stats.filter((c) => this.pvKeys.has(c.key));
    const acceptW = pvStats.reduce((sum, c) => sum + c.carMaxW, 0);
    const carsW = pvStats.reduce((sum, c) => sum + c.drawW, 0);
    const pvModeW = stats.filter((c) => this.pvModeKeys.has(c.key)).reduce((sum, c) => sum + c.drawW, 0);
    const gridW = s.gridPowerW;
    figures.pvProducedWh += s.pvPowerW * hours;
    figures.surplusWh += surplusW * hours;
    figures.bestPossibleWh += Math.min(surplusW, acceptW) * hours;
    figures.carsFromPvWh += Math.min(surplusW, carsW) * hours;
    const lostW = Math.min(surplusW, acceptW) - Math.min(surplusW, carsW);
    if (lostW > 0) {
      for (const [cause, w] of Object.entries(pvLossShares(pvStats, setPoints, this.maxA, lostW)))
        figures.lossWh[cause as PvLossCause] += w * hours;
    }
    figures.pvModeCarsWh += pvModeW * hours;
    const importToPvW = Math.min(Math.max(0, gridW), pvModeW);
    figures.gridImportDuringPvWh += importToPvW * hours;
    figures.batteryToPvCarsWh += Math.min(Math.max(0, -batteryW), pvModeW - importToPvW) * hours;
    figures.gridImportWh += Math.max(0, gridW) * hours;
    figures.gridExportWh += Math.max(0, -gridW) * hours;
  }

  /** The figures at the end of the day. */
  finish(s: SiteSimulator): PvFigures {
    const figures = this.figures;
    figures.share = figures.bestPossibleWh > 0 ? figures.carsFromPvWh / figures.bestPossibleWh : 0;
    const soc = s.batterySocPercent;
    if (soc !== undefined) figures.batteryEndSocPercent = soc;
    return figures;
  }
}
