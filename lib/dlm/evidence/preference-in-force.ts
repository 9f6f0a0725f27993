/**
 * A connector's mode and priority in force, read from its preferences' record (`PreferenceRecord`:
 * a command's override, an expression's result, a `price` connector's choice for now) and the
 * site's setting or the transaction's tag priority. The modes stage writes that record
 * (modes/preferences.ts, modes/price-plans.ts); the observer reads what is in force into each
 * connector's view (evidence/observer.ts `view`), from which every later stage takes it.
 */
import type { ConnectorRuntime, PreferenceRecord } from '../parts';
import type { ChargingMode } from '../site/config';
import type { Connector, Site } from '../site/model';

/**
 * The mode in force: the chosen one (`chosenMode`); a `price` connector's is what its prices and
 * plan say for now (modes/price-plans.ts: `fast` or `pv`; `pv` before its first decision).
 */
export function effectiveMode(site: Site, connector: Connector, record: PreferenceRecord): ChargingMode {
  const mode = chosenMode(site, connector, record);
  return mode === 'price' ? (record.priceMode ?? 'pv') : mode;
}

/** The mode chosen: the command's, else the configured one, else the expression's result. */
export function chosenMode(site: Site, connector: Connector, record: PreferenceRecord): ChargingMode {
  if (record.modeOverride) return record.modeOverride;
  const configured = connector.mode ?? site.defaultMode;
  if (typeof configured === 'string') return configured;
  return record.exprMode ?? 'fast';
}

/** The priority in force: the command's, else the expression's, else the higher of the configured and the tag's. */
export function effectivePriority(connector: Connector, record: ConnectorRuntime): number {
  if (record.priorityOverride !== undefined) return record.priorityOverride;
  if (typeof connector.priority === 'object')
    return record.exprPriority ?? record.state?.transaction?.priority ?? 0;
  const tagPriority = record.state?.transaction?.priority;
  const configured = connector.priority ?? 0;
  return tagPriority === undefined ? configured : Math.max(configured, tagPriority);
}
