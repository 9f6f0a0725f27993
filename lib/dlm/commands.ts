/** The commands a flow sends the load manager (each handled by the stage that owns what it changes). */
import type { PriceCommand } from './modes/price-plans';
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
