import { type FallbackMemory, PLAN_SLOTS } from './plan';

/**
 * What the profile manager keeps in a charger's durable record (`ChargerRecord.facts.profiles`, through ChargePointPort.storeData):
 * what worked and what was refused, so that a restart of Node-RED does not try the refused ways
 * again at once, and whether a ChargePointMaxProfile of this package may still be installed. It
 * holds for the firmware and strategy it was learned with.
 */
export interface StoredFacts {
  version: 1;
  firmware?: string;
  strategy: string;
  memory: FallbackMemory;
  compositeUnsupported: boolean;
  remoteStartProfileRefused?: string;
  /** A ChargePointMaxProfile of this package may be installed: it is cleared once nothing needs it. */
  chargePointMaxProfile?: boolean;
}

/**
 * Whether a stored value is facts this version wrote, checked all the way down: the record is
 * written by earlier versions and read back after crashes, and one wrong shape (`refused: null`)
 * must cost the memory, not every set-point.
 */
export function isStoredFacts(value: unknown): value is StoredFacts {
  if (!isPlainObject(value)) return false;
  const facts = value as Record<string, unknown>;
  return (
    facts.version === 1 &&
    typeof facts.strategy === 'string' &&
    optionalString(facts.firmware) &&
    optionalString(facts.remoteStartProfileRefused) &&
    typeof facts.compositeUnsupported === 'boolean' &&
    (facts.chargePointMaxProfile === undefined || typeof facts.chargePointMaxProfile === 'boolean') &&
    isMemory(facts.memory)
  );
}

function isMemory(value: unknown): value is FallbackMemory {
  if (!isPlainObject(value)) return false;
  const { worked, refused } = value as Record<string, unknown>;
  if (!isPlainObject(worked) || !isPlainObject(refused)) return false;
  const slotsOnly = (record: Record<string, unknown>) =>
    Object.keys(record).every((key) => (PLAN_SLOTS as readonly string[]).includes(key));
  if (!slotsOnly(worked) || !slotsOnly(refused)) return false;
  if (!Object.values(worked).every((key) => typeof key === 'string')) return false;
  return Object.values(refused).every(
    (reasons) =>
      isPlainObject(reasons) && Object.values(reasons).every((reason) => typeof reason === 'string'),
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}
