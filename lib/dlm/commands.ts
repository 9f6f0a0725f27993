/** The commands a flow sends the load manager (each handled by the stage that owns what it changes). */
import type { Triple } from './phases';
import type { ChargingMode, SiteConfig } from './site/config';

export type DlmCommand =
  | { type: 'mode'; chargePointId: string; connectorId?: number; mode: ChargingMode | null }
  | { type: 'priority'; chargePointId: string; connectorId?: number; priority: number | null }
  | {
      type: 'siteLimit';
      /** Circuit id; default: every root. */
      circuit?: string;
      limitA?: number | Triple;
      powerLimitW?: number;
      /** Limit on the chargers' own power below the circuit (e.g. §14a), W. */
      chargersPowerLimitW?: number;
      durationMs?: number;
      /** ISO 8601 end; `durationMs` wins when both are given. */
      until?: string;
      reason?: string;
      /** Removes the site limit of the circuit (or of every root). */
      clear?: boolean;
    }
  | { type: 'pv'; residualPowerW?: number; batteryPrioritySocPercent?: number }
  | { type: 'site'; site: SiteConfig }
  | { type: 'summary' }
  /** Prices, a PV forecast, a connector's plan or price limit (modes/price-plans.ts). */
  | PriceCommand;

/** The price stage's commands (modes/price-plans.ts reads them). */
export type PriceCommand =
  | { type: 'prices'; prices: unknown }
  | { type: 'pvForecast'; forecast: unknown }
  | {
      type: 'plan';
      chargePointId: string;
      connectorId?: number;
      /** The energy the car needs by `departure`, Wh (or `energyKWh`). */
      energyWh?: unknown;
      energyKWh?: unknown;
      /** The state of charge the car needs by `departure`, % (needs its SoC and capacity: a `soc` command). */
      targetPercent?: unknown;
      /** ISO 8601 or ms since 1970. */
      departure?: unknown;
      /** Charges from the grid whenever the price is at or below it (null: no limit). */
      priceLimit?: unknown;
      /** Removes the connector's plan and price limit. */
      clear?: boolean;
    }
  /** A car's state of charge, % (and its battery's capacity): plans in % count on it. */
  | { type: 'soc'; chargePointId: string; connectorId?: number; percent?: unknown; capacityKWh?: unknown };
