/**
 * Validation of the circuits section: each circuit's fields, then the tree (parents, no cycles,
 * children, roots) and the meters (one circuit per meter source).
 */

import { isObject } from '../../objects';
import { triple } from '../phases';
import { DEFAULT_FALLBACK_CONNECTOR_A, DEFAULT_STALE_AFTER_MS, METER_LOCATIONS } from './config';
import { choice, optionalNumber, type ProblemSink, phaseValues } from './fields';
import type { Circuit, Connector } from './model';

/** The circuits in configuration order, and their index by id. */
export interface CircuitTable {
  circuits: Circuit[];
  circuitIndex: Map<string, number>;
}

/** Reads every circuit's own fields (ids first, so parents can be resolved in any order). */
export function readCircuits(rawCircuits: unknown[], problem: ProblemSink, warn: ProblemSink): CircuitTable {
  const circuits: Circuit[] = [];
  const circuitIndex = new Map<string, number>();
  rawCircuits.forEach((raw, position) => {
    const at = `circuits[${position}]`;
    if (!isObject(raw)) {
      problem(at, 'expected an object');
      return;
    }
    const id = typeof raw.id === 'string' ? raw.id.trim() : '';
    if (!id) {
      problem(`${at}.id`, 'every circuit needs an id');
      return;
    }
    const where = `circuit "${id}"`;
    if (circuitIndex.has(id)) {
      problem(`${where} id`, 'is used by more than one circuit');
      return;
    }
    const limitA = phaseValues(raw.limitA, `${where} limitA`, problem, { required: true });
    const headroomA = phaseValues(raw.headroomA, `${where} headroomA`, problem) ?? triple(0);
    const powerLimitW =
      raw.powerLimitW === undefined || raw.powerLimitW === null
        ? undefined
        : optionalNumber(raw.powerLimitW, `${where} powerLimitW`, 0, { min: 0 }, problem);
    let meter: Circuit['meter'];
    if (raw.meter !== undefined && raw.meter !== null) {
      if (!isObject(raw.meter)) problem(`${where} meter`, 'expected { source, location }');
      else {
        const source = typeof raw.meter.source === 'string' ? raw.meter.source.trim() : '';
        if (!source) problem(`${where} meter.source`, 'name the Reading source of the meter');
        const location = choice(
          raw.meter.location,
          `${where} meter.location`,
          METER_LOCATIONS,
          undefined,
          problem,
        );
        if (raw.meter.location === undefined) {
          problem(`${where} meter.location`, `say where the meter is: ${METER_LOCATIONS.join(' or ')}`);
        }
        const staleAfterMs = optionalNumber(
          raw.meter.staleAfterMs,
          `${where} meter.staleAfterMs`,
          DEFAULT_STALE_AFTER_MS,
          { min: 1000 },
          problem,
        );
        const noGenerationBelow = raw.meter.noGenerationBelow ?? false;
        if (typeof noGenerationBelow !== 'boolean') {
          problem(
            `${where} meter.noGenerationBelow`,
            `${JSON.stringify(noGenerationBelow)} is not true or false`,
          );
        }
        if (source && location) {
          meter = { source, location, staleAfterMs, noGenerationBelow: noGenerationBelow === true };
        }
      }
    }
    const fallbackRaw = isObject(raw.fallback) ? raw.fallback : {};
    if (raw.fallback !== undefined && !isObject(raw.fallback)) {
      problem(`${where} fallback`, 'expected { otherLoadA, connectorLimitA }');
    }
    const otherLoadA = phaseValues(fallbackRaw.otherLoadA, `${where} fallback.otherLoadA`, problem);
    let connectorLimitA =
      fallbackRaw.connectorLimitA === undefined || fallbackRaw.connectorLimitA === null
        ? undefined
        : optionalNumber(
            fallbackRaw.connectorLimitA,
            `${where} fallback.connectorLimitA`,
            0,
            { min: 0 },
            problem,
          );
    if (otherLoadA === undefined && connectorLimitA === undefined)
      connectorLimitA = DEFAULT_FALLBACK_CONNECTOR_A;
    const unbalanceLimitA =
      raw.unbalanceLimitA === undefined || raw.unbalanceLimitA === null
        ? undefined
        : optionalNumber(raw.unbalanceLimitA, `${where} unbalanceLimitA`, 0, { min: 0 }, problem);
    circuitIndex.set(id, circuits.length);
    circuits.push({
      index: circuits.length,
      id,
      name: typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : id,
      parentIndex: undefined,
      childIndexes: [],
      limitA: limitA ?? triple(0),
      powerLimitW,
      headroomA,
      meter,
      fallback: { otherLoadA, connectorLimitA },
      unbalanceLimitA,
      connectorIndexes: [],
    });
    if (limitA && headroomA.some((h, p) => h >= (limitA[p] ?? 0) && (limitA[p] ?? 0) > 0)) {
      warn(`${where} headroomA`, 'leaves nothing for the chargers on at least one phase');
    }
  });
  return { circuits, circuitIndex };
}

/**
 * Resolves the parents, refuses cycles, links the children (warning about a child limit above
 * its parent's), gives the roots the site's unbalance limit, and refuses a meter used twice.
 */
export function linkCircuits(
  rawCircuits: unknown[],
  table: CircuitTable,
  siteUnbalance: number | undefined,
  problem: ProblemSink,
  warn: ProblemSink,
): { rootIndexes: number[]; inCycle: Set<number> } {
  const { circuits, circuitIndex } = table;
  rawCircuits.forEach((raw) => {
    if (!isObject(raw) || typeof raw.id !== 'string') return;
    const index = circuitIndex.get(raw.id.trim());
    const circuit = index === undefined ? undefined : circuits[index];
    if (!circuit || raw.parent === undefined || raw.parent === null || raw.parent === '') return;
    const where = `circuit "${circuit.id}" parent`;
    const parentIndex = typeof raw.parent === 'string' ? circuitIndex.get(raw.parent.trim()) : undefined;
    if (parentIndex === undefined) {
      problem(where, `no circuit has the id "${String(raw.parent)}"`);
      return;
    }
    if (parentIndex === circuit.index) {
      problem(where, 'a circuit cannot feed itself');
      return;
    }
    circuit.parentIndex = parentIndex;
  });
  const inCycle = new Set<number>();
  for (const circuit of circuits) {
    const seen = new Set<number>();
    let at: Circuit | undefined = circuit;
    while (at && at.parentIndex !== undefined) {
      if (seen.has(at.index)) {
        if (!inCycle.has(circuit.index)) {
          const cycle = [...seen].map((i) => circuits[i]?.id).join(' → ');
          problem(
            `circuit "${circuit.id}" parent`,
            `the circuits form a cycle (${cycle}); the tree needs a root`,
          );
          for (const i of seen) inCycle.add(i);
        }
        break;
      }
      seen.add(at.index);
      at = circuits[at.parentIndex];
    }
  }
  if (inCycle.size === 0) {
    for (const circuit of circuits) {
      if (circuit.parentIndex === undefined) continue;
      circuits[circuit.parentIndex]?.childIndexes.push(circuit.index);
      const parent = circuits[circuit.parentIndex];
      if (parent) {
        const above = circuit.limitA.flatMap((limit, p) =>
          limit > (parent.limitA[p] ?? 0) ? [`L${p + 1} ${limit} A`] : [],
        );
        if (above.length > 0) {
          warn(
            `circuit "${circuit.id}" limitA`,
            `${above.join(', ')} above its parent "${parent.id}" (${parent.limitA.join('/')} A); the parent's limit applies`,
          );
        }
      }
    }
  }
  const rootIndexes = circuits.filter((c) => c.parentIndex === undefined).map((c) => c.index);
  for (const index of rootIndexes) {
    const root = circuits[index];
    if (root && root.unbalanceLimitA === undefined) root.unbalanceLimitA = siteUnbalance;
  }
  const meterSources = new Map<string, string>();
  for (const circuit of circuits) {
    if (!circuit.meter) continue;
    const other = meterSources.get(circuit.meter.source);
    if (other) {
      problem(
        `circuit "${circuit.id}" meter.source`,
        `"${circuit.meter.source}" is already the meter of circuit "${other}"`,
      );
    }
    meterSources.set(circuit.meter.source, circuit.id);
  }
  return { rootIndexes, inCycle };
}

/** Fills in each connector's path to its root and each circuit's connectors below it. */
export function linkConnectors(circuits: Circuit[], connectors: Connector[]): void {
  for (const connector of connectors) {
    let at: number | undefined = connector.circuitIndex;
    while (at !== undefined) {
      connector.path.push(at);
      const circuit: Circuit | undefined = circuits[at];
      circuit?.connectorIndexes.push(connector.index);
      at = circuit?.parentIndex;
    }
  }
}
