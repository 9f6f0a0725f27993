/**
 * States of charge: what a flow says of a car's battery (a `soc` command: `{ chargePointId,
 * connectorId?, percent, capacityKWh? }`, from the car maker's app or API) or what the charger
 * reports (the SoC in its meter values: DC chargers, ISO 15118), and what a plan in % takes of it
 * (modes/price-plans.ts asks). The price stage owns the plans; this module owns the SoC.
 *
 * A plan "to 80 % by 07:00" is an energy plan: (target − SoC now) × capacity, counted on the
 * connector's energy register as any plan, and planned again from each later `soc`. The planner counts no charging losses (it plans the
 * energy the charger meters), so neither does this. The plan is done once the SoC reaches the
 * target, or once the car stops drawing (`SuspendedEV`) at `FULL_PERCENT` or more: a battery
 * that full is topped off by the car's own taper, and its maker's 100 % is not always the SoC's.
 */

import { commandNumber } from '../inputs';
import type { Site } from '../site/model';

/** A car that stops drawing at this SoC or above is full: its plan is done. */
export const FULL_PERCENT = 95;

interface CarSoc {
  percent: number;
  capacityWh?: number;
}

export type SocCommand = {
  chargePointId: string;
  connectorId?: number;
  percent?: unknown;
  capacityKWh?: unknown;
};

export class StatesOfCharge {
  private readonly cars = new Map<string, CarSoc>();

  /** A `soc` command, checked whole before it is taken; returns what it did and the connectors it concerns. */
  command(command: SocCommand, site: Site): { said: string; keys: string[] } {
    if (typeof command.chargePointId !== 'string' || !command.chargePointId)
      throw new Error('soc chargePointId is missing');
    const targets = site.connectors.filter(
      (c) =>
        c.chargePointId === command.chargePointId &&
        (command.connectorId === undefined || c.connectorId === command.connectorId),
    );
    if (targets.length === 0)
      throw new Error(
        `soc: no connector ${command.chargePointId}/${command.connectorId ?? '*'} in the site model`,
      );
    const percent = commandNumber(command.percent, 'soc percent', { min: 0, max: 100 });
    const capacityWh =
      command.capacityKWh === undefined
        ? undefined
        : commandNumber(command.capacityKWh, 'soc capacityKWh', { min: 1 }) * 1000;
    for (const connector of targets) {
      const old = this.cars.get(connector.key);
      const capacity = capacityWh ?? old?.capacityWh;
      this.cars.set(connector.key, { percent, ...(capacity === undefined ? {} : { capacityWh: capacity }) });
    }
    const keys = targets.map((c) => c.key);
    return {
      said: `soc of ${keys.join(', ')}: ${percent} %${capacityWh === undefined ? '' : ` of ${capacityWh / 1000} kWh`}`,
      keys,
    };
  }

  /** The SoC now, %: the charger's where it reports one (it is live), else the flow's last. */
  percent(key: string, chargerPercent: number | undefined): number | undefined {
    return chargerPercent ?? this.cars.get(key)?.percent;
  }

  /**
   * The energy to `targetPercent`, Wh: (target − SoC) × capacity, 0 when the SoC is there. Throws
   * naming the field the plan lacks (no SoC, no capacity), so the plan in force is kept.
   */
  energyTo(targetPercent: number, key: string, chargerPercent: number | undefined): number {
    const percent = this.percent(key, chargerPercent);
    if (percent === undefined)
      throw new Error(
        `plan targetPercent: no state of charge known for ${key}: send { topic: "soc", payload: { chargePointId, connectorId, percent, capacityKWh } } first, or plan in energyKWh`,
      );
    const capacityWh = this.cars.get(key)?.capacityWh;
    if (capacityWh === undefined)
      throw new Error(
        `plan targetPercent: the battery capacity of ${key} is not known: send soc with capacityKWh first, or plan in energyKWh`,
      );
    return Math.max(0, ((targetPercent - percent) / 100) * capacityWh);
  }

  /** Why a plan in % is done (undefined: it is not): the target reached, or the car full. */
  done(
    targetPercent: number,
    key: string,
    chargerPercent: number | undefined,
    status: string | undefined,
  ): { full: boolean; percent: number } | undefined {
    const percent = this.percent(key, chargerPercent);
    if (percent === undefined) return undefined;
    if (percent >= targetPercent) return { full: false, percent: targetPercent };
    if (status === 'SuspendedEV' && percent >= FULL_PERCENT) return { full: true, percent };
    return undefined;
  }
}
