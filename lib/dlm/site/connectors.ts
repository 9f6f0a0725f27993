/** Validation of the connectors section: each connector's fields and the circuit it hangs on. */
import { IEC_61851_MINIMUM_A } from '../../electrical';
import { isObject } from '../../objects';
import type { Network } from '../phases';
import { DEFAULT_MAX_A, DEFAULT_MIN_A, PHASE_ROTATIONS } from './config';
import { choice, optionalNumber, type ProblemSink } from './fields';
import type { Connector } from './model';
import { connectorKey, gridPhasesOf } from './model';
import { expression, modeSetting } from './settings';

/** Reads every connector (one on an unknown circuit is reported and left out). */
// Its prologue (an object per entry, an id first, problems named by position) has the shape of
// site/circuits.ts on purpose: each section reader stands alone and names its own fields.
export function readConnectors(
  rawConnectors: unknown[],
  circuitIndex: Map<string, number>,
  problem: ProblemSink,
  warn: ProblemSink,
  network: Network = 'TN',
): Connector[] {
  const connectors: Connector[] = [];
  const connectorKeys = new Set<string>();
  rawConnectors.forEach((raw, position) => {
    const at = `connectors[${position}]`;
    if (!isObject(raw)) {
      problem(at, 'expected an object');
      return;
    }
    const chargePointId = typeof raw.chargePointId === 'string' ? raw.chargePointId.trim() : '';
    if (!chargePointId) {
      problem(`${at}.chargePointId`, 'every connector needs its charger identity');
      return;
    }
    const connectorId = optionalNumber(
      raw.connectorId,
      `${at}.connectorId`,
      1,
      { min: 1, integer: true },
      problem,
    );
    const key = connectorKey(chargePointId, connectorId);
    const where = `connector "${key}"`;
    if (connectorKeys.has(key)) {
      problem(where, 'is listed more than once');
      return;
    }
    connectorKeys.add(key);
    const circuitId = typeof raw.circuit === 'string' ? raw.circuit.trim() : '';
    const circuitIndexOf = circuitIndex.get(circuitId);
    if (!circuitId) problem(`${where} circuit`, 'name the circuit (supply line) the connector hangs on');
    else if (circuitIndexOf === undefined)
      problem(`${where} circuit`, `no circuit has the id "${circuitId}"`);
    const rotation =
      choice(raw.phaseRotation, `${where} phaseRotation`, PHASE_ROTATIONS, 'RST', problem) ?? 'RST';
    const phases = raw.phases === undefined || raw.phases === null ? 3 : raw.phases;
    if (phases !== 1 && phases !== 3) problem(`${where} phases`, `${String(raw.phases)} is not 1 or 3`);
    const minA = optionalNumber(
      raw.minA,
      `${where} minA`,
      DEFAULT_MIN_A,
      { min: IEC_61851_MINIMUM_A, max: 80 },
      problem,
    );
    const maxA = optionalNumber(raw.maxA, `${where} maxA`, DEFAULT_MAX_A, { min: 0, max: 80 }, problem);
    if (minA > maxA) problem(`${where} minA`, `${minA} A is above maxA ${maxA} A`);
    const perPhases = phaseMinimums(
      raw,
      where,
      { minA, maxA, phases, canSwitchPhases: raw.canSwitchPhases === true },
      problem,
      warn,
    );
    const offlineA = optionalNumber(raw.offlineA, `${where} offlineA`, maxA, { min: 0, max: 80 }, problem);
    const stepA =
      raw.stepA === undefined || raw.stepA === null
        ? undefined
        : optionalNumber(raw.stepA, `${where} stepA`, 0.1, { min: 0.1, max: 10 }, problem);
    let priority: Connector['priority'];
    if (typeof raw.priority === 'string' && raw.priority.trim().startsWith('=')) {
      priority = expression(raw.priority, `${where} priority`, problem);
    } else if (raw.priority !== undefined && raw.priority !== null && raw.priority !== '') {
      priority = optionalNumber(raw.priority, `${where} priority`, 0, {}, problem);
    }
    const mode = modeSetting(raw.mode, `${where} mode`, problem);
    const canSwitchPhases = raw.canSwitchPhases === true;
    if (canSwitchPhases && phases !== 3) {
      warn(`${where} canSwitchPhases`, 'only a connector wired with 3 phases can switch; ignored');
    }
    if (circuitIndexOf === undefined) return;
    connectors.push({
      index: connectors.length,
      key,
      chargePointId,
      connectorId,
      name: typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : key,
      circuitIndex: circuitIndexOf,
      path: [],
      phaseRotation: rotation,
      gridPhaseOf: gridPhasesOf(rotation),
      phases: phases === 1 ? 1 : 3,
      network,
      minA,
      ...perPhases,
      maxA,
      priority,
      mode,
      canSwitchPhases: canSwitchPhases && phases === 3,
      offlineA,
      stepA,
    });
  });
  return connectors;
}

/**
 * The minimums for a car on one phase and on three (`minOnePhaseA`, `minThreePhaseA`: a charger's
 * own floors such as EVlink's mono/triphasedLoadSheddingFloorValue), each `minA` unless set; from
 * IEC 61851's 6 A up to `maxA`. On a connector wired with one phase a three-phase minimum is
 * ignored (with a warning).
 */
function phaseMinimums(
  raw: Record<string, unknown>,
  where: string,
  connector: { minA: number; maxA: number; phases: unknown; canSwitchPhases: boolean },
  problem: ProblemSink,
  warn: ProblemSink,
): { minOnePhaseA: number; minThreePhaseA: number } {
  const given = (field: string) => raw[field] !== undefined && raw[field] !== null && raw[field] !== '';
  const read = (field: 'minOnePhaseA' | 'minThreePhaseA') => {
    const value = optionalNumber(
      raw[field],
      `${where} ${field}`,
      connector.minA,
      { min: IEC_61851_MINIMUM_A, max: 80 },
      problem,
    );
    // Only one given here: minA's own check names a default above maxA.
    if (given(field) && value > connector.maxA)
      problem(`${where} ${field}`, `${value} A is above maxA ${connector.maxA} A`);
    return value;
  };
  const minOnePhaseA = read('minOnePhaseA');
  const minThreePhaseA = read('minThreePhaseA');
  const named = ['minOnePhaseA', 'minThreePhaseA'].filter(given);
  // The phase switching decides with the minimum of the phases the car is on now: with two, it
  // would switch up at the one-phase minimum into a three-phase one it does not reach.
  if (connector.canSwitchPhases && named.length > 0)
    problem(
      `${where} ${named.join(', ')}`,
      'a connector that switches phases (canSwitchPhases) takes one minimum for one and three phases, minA: remove the per-phase minimums or the switching',
    );
  if (connector.phases === 1 && given('minThreePhaseA')) {
    warn(
      `${where} minThreePhaseA`,
      'a connector wired with one phase charges every car on one phase; ignored',
    );
    return { minOnePhaseA, minThreePhaseA: minOnePhaseA };
  }
  return { minOnePhaseA, minThreePhaseA };
}
