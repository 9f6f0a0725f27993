import type { ChargerCapabilities, RateUnit } from './capabilities';
import type { ChargingStrategy, LimitMethod } from './strategies';

/**
 * The fallback order: which commands to try, in which order, to put a limit on a connector. The
 * strategy lists the methods; each profile method is tried with the strategy's stack level and
 * unit first, then with stack level 0 and with the other unit where those are still open
 * questions. What a charger refused is skipped for a while, and within a method the variant that
 * worked goes first, per charger ({@link FallbackMemory}).
 */

export interface Attempt {
  /** Identifies the attempt in the memory, e.g. `TxProfile/8/A` or `ConfigurationKey`. */
  key: string;
  method: LimitMethod;
  stackLevel?: number;
  unit?: RateUnit;
}

/** While a transaction runs, or not; a pause (limit 0) is remembered apart (some chargers refuse 0 A: evcc #16768). */
export type PlanSlot = `${'session' | 'idle'}/${'limit' | 'pause'}`;
export const PLAN_SLOTS: readonly PlanSlot[] = ['session/limit', 'session/pause', 'idle/limit', 'idle/pause'];

/** The mark for "no charging profile at all" (CALLERROR NotSupported, errata 3.39). */
export const ALL_PROFILES = '*profiles';

export interface FallbackMemory {
  /** The attempt that worked last, per slot. */
  worked: Partial<Record<PlanSlot, string>>;
  /** Attempts the charger refused, with the reason, per slot. */
  refused: Partial<Record<PlanSlot, Record<string, string>>>;
}

/**
 * A refused attempt is tried again after this long: one Rejected may be transient (a charger busy
 * with its own load management, a session that was ending), and remembering it for good would
 * leave a worse method in charge for ever.
 */
export const RETRY_REFUSED_AFTER_MS = 15 * 60 * 1000;
/** CALLERROR NotSupported to every profile (no SmartCharging) is remembered longer. */
export const RETRY_NOT_SUPPORTED_AFTER_MS = 24 * 60 * 60 * 1000;

/** When each refusal was learned, keyed `slot|attempt` (not stored: a restart starts the clock again). */
export type RefusalTimes = Map<string, number>;

export function emptyMemory(): FallbackMemory {
  return { worked: {}, refused: {} };
}

export interface PlanInput {
  strategy: ChargingStrategy;
  capabilities: ChargerCapabilities | undefined;
  /** A transaction runs on the connector (and the set-point is for one connector, not 0). */
  session: boolean;
  pause: boolean;
  /** 0: the set-point is for every connector (TxDefaultProfile on connector 0, 3.13.1). */
  connectorId: number;
  memory: FallbackMemory;
}

/**
 * One of the four slot names as written above, not a string put together per call: a slot is a key
 * the memory is read by several times per set-point, and a new string is looked up by its text.
 */
export function slotOf(session: boolean, pause: boolean): PlanSlot {
  if (session) return pause ? 'session/pause' : 'session/limit';
  return pause ? 'idle/pause' : 'idle/limit';
}

/**
 * Every attempt in order, the refused ones left out. The strategy's order of methods holds: what
 * worked last goes first among the variants of its method only, so a fallback that worked once
 * (ChargePointMaxProfile after one transient refusal) does not stay ahead of the preferred method.
 * One pass over the strategy's methods (planned for every set-point that goes out): no list made
 * per rule that leaves a method out, nor per method for the variants not refused.
 */
export function planAttempts(input: PlanInput): Attempt[] {
  const { strategy, capabilities } = input;
  const slot = slotOf(input.session, input.pause);
  // Without the SmartCharging profile every profile is answered NotSupported (errata 3.39).
  const keyOnly = capabilities?.smartCharging === false || profilesRefused(input.memory, slot);
  const stackLevels = stackLevelsFor(strategy, capabilities);
  const units = unitsFor(strategy, capabilities);
  const refused = input.memory.refused[slot];
  const worked = input.memory.worked[slot];
  const attempts: Attempt[] = [];
  for (const method of input.session ? strategy.sessionMethods : strategy.idleMethods) {
    if (!methodApplies(method, input, keyOnly)) continue;
    const first = attempts.length;
    if (method === 'ConfigurationKey') {
      if (refused?.[method] === undefined) attempts.push({ key: method, method });
    } else {
      for (const unit of units) {
        for (const stackLevel of stackLevels) {
          const key = `${method}/${stackLevel}/${unit}`;
          if (refused?.[key] === undefined) attempts.push({ key, method, stackLevel, unit });
        }
      }
    }
    if (worked === undefined) continue;
    for (let i = first + 1; i < attempts.length; i++) {
      if ((attempts[i] as Attempt).key !== worked) continue;
      attempts.splice(first, 0, ...attempts.splice(i, 1));
      break;
    }
  }
  return attempts;
}

/** Whether a method of the strategy's list is a way to limit the connector now. */
function methodApplies(method: LimitMethod, input: PlanInput, keyOnly: boolean): boolean {
  // Without smart charging (or every profile refused) only the configuration key is left.
  if (keyOnly && method !== 'ConfigurationKey') return false;
  switch (method) {
    // A TxProfile needs a transaction on one connector (3.13.1: "only be set at ConnectorId >0").
    case 'TxProfile':
      return input.connectorId !== 0 && input.session;
    // A TxDefaultProfile that applies only from the next session would leave the running one at the
    // limit it started with (and clearing its TxProfile would raise it): not a way to limit it now.
    case 'TxDefaultProfile':
      return !input.session || input.strategy.txDefaultAppliesToRunningSession;
    case 'ConfigurationKey':
      return Boolean(input.strategy.configurationKey);
    default:
      return true;
  }
}

/** Remembers a refusal; a charger without smart charging refuses every profile at once. */
export function rememberRefusal(
  memory: FallbackMemory,
  slot: PlanSlot,
  attempt: Attempt,
  reason: string,
  allProfiles: boolean,
  times?: RefusalTimes,
  nowMs = 0,
): void {
  memory.refused[slot] = { ...memory.refused[slot], [attempt.key]: reason };
  times?.set(refusalId(slot, attempt.key), nowMs);
  if (!allProfiles) return;
  for (const other of PLAN_SLOTS) {
    memory.refused[other] = { ...memory.refused[other], [ALL_PROFILES]: reason };
    times?.set(refusalId(other, ALL_PROFILES), nowMs);
  }
}

/** A refusal's key in {@link RefusalTimes}. */
function refusalId(slot: PlanSlot, key: string): string {
  return `${slot}|${key}`;
}

/** Forgets one refusal and its time, and the slot's record once it holds none. */
function dropRefusal(memory: FallbackMemory, times: RefusalTimes, slot: PlanSlot, key: string): void {
  times.delete(refusalId(slot, key));
  const refused = memory.refused[slot];
  if (!refused) return;
  delete refused[key];
  if (Object.keys(refused).length === 0) delete memory.refused[slot];
}

/** Whether the memory says every profile is refused (CALLERROR NotSupported). */
export function profilesRefused(memory: FallbackMemory, slot: PlanSlot): boolean {
  return memory.refused[slot]?.[ALL_PROFILES] !== undefined;
}

/**
 * How soon after a TxProfile's refusal its transaction's stop explains it, ms: a charger whose
 * transaction has just ended (its car unplugged) rejects a TxProfile for it, and its
 * StopTransaction, queued behind that answer, arrives a moment later. Longer than the queue and
 * the round trip take; a refusal a charger meant stays remembered.
 */
export const TX_END_EXPLAINS_MS = 30_000;

/**
 * Forgets TxProfile refusals of a slot found out later to mean nothing (events.ts: the transaction
 * had ended), and the way that worked instead, so that the TxProfile goes first again and the offline
 * fallback is judged without it. Returns whether any was remembered.
 */
export function forgetTxRefusals(
  memory: FallbackMemory,
  times: RefusalTimes,
  slot: PlanSlot,
  keys: readonly string[],
): boolean {
  const refused = memory.refused[slot];
  if (!refused || !keys.some((key) => refused[key] !== undefined)) return false;
  for (const key of keys) dropRefusal(memory, times, slot, key);
  if (!memory.worked[slot]?.startsWith('TxProfile/')) delete memory.worked[slot];
  return true;
}

/** Forgets the refusals of a slot (and the "no profiles at all" mark), to try every way again. */
export function forgetRefusals(memory: FallbackMemory, slot: PlanSlot): void {
  delete memory.refused[slot];
}

/**
 * Forgets refusals older than {@link RETRY_REFUSED_AFTER_MS} ({@link RETRY_NOT_SUPPORTED_AFTER_MS}
 * for "no profiles at all"). A refusal without a time (read from the charger's record after a
 * restart) counts from now. Returns whether anything was forgotten.
 */
export function expireRefusals(memory: FallbackMemory, times: RefusalTimes, nowMs: number): boolean {
  let changed = false;
  for (const slot of PLAN_SLOTS) {
    const refused = memory.refused[slot];
    if (!refused) continue;
    for (const key of Object.keys(refused)) {
      const id = refusalId(slot, key);
      const atMs = times.get(id);
      if (atMs === undefined) {
        times.set(id, nowMs);
        continue;
      }
      const afterMs = key === ALL_PROFILES ? RETRY_NOT_SUPPORTED_AFTER_MS : RETRY_REFUSED_AFTER_MS;
      if (nowMs - atMs < afterMs) continue;
      dropRefusal(memory, times, slot, key);
      changed = true;
    }
    // A record read back empty from the charger's store holds nothing either.
    if (Object.keys(refused).length === 0) delete memory.refused[slot];
  }
  return changed;
}

/** Remembers the way that worked for the slot; returns whether that changed what was remembered. */
export function rememberSuccess(memory: FallbackMemory, slot: PlanSlot, attempt: Attempt): boolean {
  if (memory.worked[slot] === attempt.key) return false;
  memory.worked[slot] = attempt.key;
  return true;
}

/**
 * The stack level a limit goes at first where the charger does not say its ChargeProfileMaxStackLevel
 * (OCPP 1.6 §9.1 requires it with SmartCharging; independent simulators' templates lack it, and a read
 * of it can fail): 1, so that the offline fallback at stack level 0 stays below (§3.13.2). A charger
 * that takes only 0 refuses it, and its limits go at 0 from then on ({@link stackLevelsFor}).
 */
export const UNKNOWN_MAX_STACK_LEVEL = 1;

/** The stack levels a limit is tried at, in order (the first: the level the strategy means). */
export function stackLevelsFor(
  strategy: ChargingStrategy,
  capabilities: ChargerCapabilities | undefined,
): number[] {
  if (strategy.stackLevel !== 'max') return [strategy.stackLevel];
  const max = capabilities?.maxStackLevel;
  if (max === undefined) return [UNKNOWN_MAX_STACK_LEVEL, 0];
  // Some chargers announce a higher ChargeProfileMaxStackLevel but take only 0 (evcc #15493).
  return max > 0 ? [max, 0] : [0];
}

function unitsFor(strategy: ChargingStrategy, capabilities: ChargerCapabilities | undefined): RateUnit[] {
  if (strategy.rateUnit !== 'auto') return [strategy.rateUnit];
  const allowed = capabilities?.allowedUnits;
  if (!allowed) return ['A', 'W'];
  // A is the unit for AC charging (errata 3.68: "usually more convenient").
  return allowed.includes('A') ? ['A'] : ['W'];
}
