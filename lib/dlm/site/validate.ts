/**
 * `validateSite` turns a `SiteConfig` into a `Site` with every default filled in, or lists every
 * problem at once (each naming the circuit or connector and the field); each section is read by
 * its own module (site/circuits.ts, site/connectors.ts, site/settings.ts).
 */

import { ShapeVersionError, upgradeSite } from '../../config-versions';
import { isObject } from '../../objects';
import { NETWORKS } from '../phases';
import { linkCircuits, linkConnectors, readCircuits } from './circuits';
import { DEFAULT_UNBALANCE_LIMIT_A, DEFAULT_VOLTAGE_V, SHEDDING_RULES, type SiteConfig } from './config';
import { readConnectors } from './connectors';
import { choice, optionalNumber } from './fields';
import { type Site, SiteConfigError, type SiteProblem, type SiteValidation } from './model';
import { controlSettings, modeSetting, pvSettings } from './settings';
import { readTimeZone } from './time-zone';
import { warnAboutSafety, warnAboutUnmeasuredGeneration } from './warnings';

/** Returns the validated site, or throws a SiteConfigError listing every problem. */
export function parseSite(config: unknown): Site {
  const result = validateSite(config);
  if (!result.site) throw new SiteConfigError(result.problems);
  return result.site;
}

/**
 * Checks a site configuration and reports every problem (refused) and warning (accepted but
 * suspicious), each naming the circuit or connector and the field.
 */
export function validateSite(input: unknown): SiteValidation {
  const problems: SiteProblem[] = [];
  const warnings: SiteProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const warn = (field: string, message: string) => warnings.push({ field, message });

  if (!isObject(input)) {
    return {
      problems: [{ field: 'site', message: 'expected an object with circuits and connectors' }],
      warnings,
    };
  }
  // A site saved by an older release is read in today's shape (lib/config-versions.ts).
  let config: SiteConfig;
  try {
    config = upgradeSite(input).shape as unknown as SiteConfig;
  } catch (err) {
    if (!(err instanceof ShapeVersionError)) throw err;
    return { problems: [{ field: err.field, message: err.message }], warnings };
  }
  const voltageV = optionalNumber(
    config.voltageV,
    'voltageV',
    DEFAULT_VOLTAGE_V,
    { min: 50, max: 500 },
    problem,
  );
  const network =
    choice(config.network, 'network', NETWORKS, 'TN', (field, message) =>
      problem(field, `${message} (TN: 3×400 V with a neutral; IT: 3×230 V without one, Belgium, Norway)`),
    ) ?? 'TN';
  const timeZone = readTimeZone(config.timeZone, 'timeZone', problem);
  const rawCircuits: unknown[] = Array.isArray(config.circuits) ? config.circuits : [];
  const rawConnectors: unknown[] = Array.isArray(config.connectors) ? config.connectors : [];
  if (!Array.isArray(config.circuits)) problem('circuits', 'expected a list of circuits');
  else if (rawCircuits.length === 0)
    problem('circuits', 'at least one circuit (the grid connection) is needed');
  if (config.connectors !== undefined && !Array.isArray(config.connectors)) {
    problem('connectors', 'expected a list of connectors');
  }
  const shedding = choice(config.shedding, 'shedding', SHEDDING_RULES, 'firstStarted', problem);
  const siteUnbalance =
    config.unbalanceLimitA === null
      ? undefined
      : optionalNumber(
          config.unbalanceLimitA,
          'unbalanceLimitA',
          DEFAULT_UNBALANCE_LIMIT_A,
          { min: 0 },
          problem,
        );
  const defaultMode = modeSetting(config.defaultMode, 'defaultMode', problem) ?? 'fast';
  const control = controlSettings(config.control, problem);

  const table = readCircuits(rawCircuits, problem, warn);
  const { circuits, circuitIndex } = table;
  const { rootIndexes, inCycle } = linkCircuits(rawCircuits, table, siteUnbalance, problem, warn);
  const connectors = readConnectors(rawConnectors, circuitIndex, problem, warn, network);
  const pv = pvSettings(config.pv, circuitIndex, circuits, rootIndexes, problem);

  if (problems.length > 0 || inCycle.size > 0) return { problems, warnings };
  linkConnectors(circuits, connectors);
  warnAboutSafety(circuits, connectors, warn);
  warnAboutUnmeasuredGeneration({ pv, connectors, circuits, defaultMode }, warn);

  return {
    site: {
      network,
      voltageV: network === 'IT' ? voltageV / Math.sqrt(3) : voltageV,
      timeZone,
      circuits,
      connectors,
      rootIndexes,
      shedding: shedding ?? 'firstStarted',
      defaultMode,
      control,
      pv,
      warnings,
      config: structuredClone(config),
    },
    problems,
    warnings,
  };
}
