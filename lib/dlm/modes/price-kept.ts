/**
 * The price stage's part of what the load manager keeps across a restart (modes/price-plans.ts
 * composes it; lib/dlm/memory.ts writes it): the price list and the PV forecast with when they came,
 * and each connector's plan with the energy counted so far; read back only while each still means
 * something, each part taken back or dropped said in one line naming what and why.
 */
import type { Logger } from '../../log';
import { isObject } from '../../objects';
import { describeValue } from '../site/fields';
import type { Site } from '../site/model';
import { type PriceList, parseSlotList } from './price-list';

/** A connector's plan from the flow. */
export interface FlowPlan {
  energyWh?: number;
  departureMs?: number;
  /** The plan was asked in %: done once the car's state of charge reaches it (modes/soc-plans.ts). */
  targetPercent?: number;
  priceLimit?: number;
  /** The energy register when the plan was made (first seen after), and the last seen, Wh. */
  fromWh?: number;
  lastWh?: number;
}

/**
 * What the stage keeps across a restart (lib/dlm/memory.ts): the lists as they were taken, with when
 * (their age), and each connector's plan with the energy counted so far. Plain JSON.
 */
export interface KeptPrices {
  prices?: KeptList;
  pvForecast?: KeptList;
  /** By connector key. */
  plans?: Record<string, FlowPlan>;
}

export interface KeptList {
  /** When the list was taken, ms since 1970. */
  receivedAtMs: number;
  currency?: string;
  /** [start ms, end ms, price or W], read back through parseSlotList (a hand-edited file is checked). */
  slots: [number, number, number][];
}

/** A list as kept (undefined: nothing to keep). */
export function keptList(list: PriceList | undefined, atMs: number | undefined): KeptList | undefined {
  return list && list.slots.length > 0 && atMs !== undefined
    ? {
        receivedAtMs: atMs,
        ...(list.currency === undefined ? {} : { currency: list.currency }),
        slots: list.slots.map((slot) => [slot.startMs, slot.endMs, slot.value]),
      }
    : undefined;
}

const at = (ms: number) => new Date(ms).toISOString();

/**
 * A kept list read back (checked as a list sent by the flow), with when it came; undefined when
 * there was none, it is not a list, or its last slot has ended (stale: its end is its age limit).
 */
export function restoreList(
  value: unknown,
  kind: 'prices' | 'pvForecast',
  now: number,
  logger: Logger,
): { list: PriceList; atMs: number } | undefined {
  if (value === undefined) return undefined;
  try {
    if (!isObject(value) || !Array.isArray(value.slots) || typeof value.receivedAtMs !== 'number')
      throw new Error(`not a kept list: ${describeValue(value)}`);
    const field = kind === 'prices' ? 'price' : 'powerW';
    const list = parseSlotList(
      {
        ...(typeof value.currency === 'string' ? { currency: value.currency } : {}),
        [kind]: value.slots.map((slot) =>
          Array.isArray(slot) ? { start: slot[0], end: slot[1], [field]: slot[2] } : slot,
        ),
      },
      kind,
    );
    const last = list.slots.at(-1);
    const age = `received ${at(value.receivedAtMs)}`;
    if (!last) return undefined;
    if (last.endMs <= now) {
      logger.warn(
        `${kind} kept from before the restart dropped: the list (${age}) ends ${at(last.endMs)}, before now; send the list from now on`,
      );
      return undefined;
    }
    logger.info(`${kind} kept from before the restart taken back: ${describeList(list)} (${age})`);
    return { list, atMs: value.receivedAtMs };
  } catch (err) {
    logger.warn(`${kind} kept from before the restart dropped: ${(err as Error).message}`);
    return undefined;
  }
}

/** The kept plans that still mean something, by connector key (see keptPlanProblem). */
export function restorePlans(plans: unknown, site: Site, now: number, logger: Logger): [string, FlowPlan][] {
  if (!isObject(plans)) return [];
  const taken: [string, FlowPlan][] = [];
  for (const [key, plan] of Object.entries(plans)) {
    const departureMs = isObject(plan) ? plan.departureMs : undefined;
    const why = keptPlanProblem(plan, now, site, key);
    if (why) {
      logger.warn(`plan of ${key} kept from before the restart dropped: ${why}`);
      continue;
    }
    const flow = { ...(plan as FlowPlan) };
    taken.push([key, flow]);
    if (typeof departureMs === 'number' && flow.departureMs === undefined)
      logger.warn(
        `plan of ${key} kept from before the restart: its departure ${at(departureMs)} is past, its energy dropped; its price limit is kept`,
      );
    const what = [
      flow.energyWh === undefined ? '' : `${flow.energyWh / 1000} kWh by ${at(flow.departureMs ?? 0)}`,
      flow.priceLimit === undefined ? '' : `price limit ${flow.priceLimit}`,
    ].filter(Boolean);
    logger.info(`plan of ${key} kept from before the restart taken back: ${what.join(', ')}`);
  }
  return taken;
}

/** Why a kept plan cannot be taken back (undefined: it can). */
function keptPlanProblem(plan: unknown, now: number, site: Site, key: string): string | undefined {
  if (!site.connectors.some((c) => c.key === key)) return 'no such connector in the site any more';
  if (!isObject(plan)) return `not a kept plan: ${describeValue(plan)}`;
  for (const field of [
    'energyWh',
    'departureMs',
    'targetPercent',
    'priceLimit',
    'fromWh',
    'lastWh',
  ] as const) {
    const value = plan[field];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value)))
      return `${field} ${describeValue(value)} is not a number`;
  }
  if ((plan.energyWh === undefined) !== (plan.departureMs === undefined))
    return 'an energy without a departure (or a departure without an energy)';
  if (plan.energyWh === undefined && plan.priceLimit === undefined)
    return 'neither an energy nor a price limit';
  if (typeof plan.departureMs === 'number' && plan.departureMs <= now) {
    if (plan.priceLimit === undefined)
      return `its departure ${new Date(plan.departureMs).toISOString()} is past`;
    // The price limit holds with no departure: it is kept alone (as a plan command with only it).
    delete plan.energyWh;
    delete plan.departureMs;
    delete plan.fromWh;
    delete plan.lastWh;
  }
  return undefined;
}

export function describeList(list: PriceList): string {
  const first = list.slots[0];
  const last = list.slots.at(-1);
  if (!first || !last) return 'none (cleared)';
  return `${list.slots.length} slots from ${new Date(first.startMs).toISOString()} to ${new Date(last.endMs).toISOString()}`;
}
