/**
 * Price stage: the prices and the PV forecast a flow sent (modes/price-list.ts), each connector's
 * plan "energy E by time T" (a `plan` command, else the car's ISO 15118 needs) and price limit,
 * and what every connector in mode `price` does in this update (written as the record's
 * `priceMode`, which `effectiveMode` gives the other stages): `fast` while the departure planner
 * (modes/departure-planner.ts) has grid energy planned now or the price now is at or below its
 * limit, else `pv` (PV surplus only, as any pv car). It runs before the observer, on what the last
 * update saw (what the breakers allowed, the surplus), and plans again on every update. It owns the
 * price list, the forecast, the plans and the plan's words (the reason's first part, the summary's
 * `plan`).
 */

import type { Logger } from '../../log';
import { isObject } from '../../objects';
import type { PriceCommand } from '../commands';
import type { CircuitView } from '../evidence/circuit-view';
import { chosenMode } from '../evidence/preference-in-force';
import { commandNumber } from '../inputs';
import type { ConnectorView, PlanFigures } from '../parts';
import type { ConnectorRuntimes } from '../runtime';
import { leftA } from '../site/circuit';
import { describeValue } from '../site/fields';
import type { Connector, Site } from '../site/model';
import { clockTime } from '../site/time-zone';
import { type Reason, say } from '../words';
import { describeDeparturePlan, planDeparture } from './departure-planner';
import { type PricesSummary, planFigures, priceCurve } from './plan-figures';
import {
  describeList,
  type FlowPlan,
  type KeptPrices,
  keptList,
  restoreList,
  restorePlans,
} from './price-kept';
import { describePrice, type PriceList, parseSlotList, slotAt, timeOf } from './price-list';
import { StatesOfCharge } from './soc-plans';

/** What the stage reads of the last update. */
export interface PriceContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  circuitViews: readonly CircuitView[];
  /** The PV surplus at the last update, W (undefined without PV). */
  surplusW: number | undefined;
}

/** How long what the breakers leave a car is followed over (see `smoothedFreeA`), ms. */
const FREE_SMOOTHING_MS = 300_000;

export type { KeptPrices } from './price-kept';

export class PricePlans {
  private prices: PriceList = { slots: [] };
  private pricesAtMs: number | undefined;
  private forecast: PriceList | undefined;
  private forecastAtMs: number | undefined;
  /** A command changed what is kept since the last `kept()`. */
  dirty = false;
  private readonly plans = new Map<string, FlowPlan>();
  private readonly free = new Map<string, { amps: number; atMs: number }>();
  /** Each connector's plan in figures at the last update (the summary's price curve marks them). */
  private readonly planned = new Map<string, PlanFigures>();
  /** The cars' states of charge (plans in %). */
  private readonly soc = new StatesOfCharge();

  /**
   * A prices, pvForecast or plan command: checked whole before anything is taken. A list that ends
   * before `now` (yesterday's, sent again) or a departure already past is refused: taken, either
   * would change what the car does now (no price known: the planner charges at once) while the
   * sender meant something else. A list partly past is taken whole (its past slots are never asked).
   */
  command(
    command: PriceCommand,
    site: Site,
    now: number,
    chargerSoc?: (key: string) => number | undefined,
  ): string {
    if (command.type === 'soc') {
      const { said, keys } = this.soc.command(command, site);
      // A plan in % follows the SoC the car says now: its energy planned again from it, counted anew.
      for (const [key, plan] of this.plans) {
        if (plan.targetPercent === undefined || !keys.includes(key)) continue;
        plan.energyWh = this.soc.energyTo(plan.targetPercent, key, chargerSoc?.(key));
        delete plan.fromWh;
        delete plan.lastWh;
        this.dirty = true;
      }
      return said;
    }
    if (command.type === 'prices') {
      const prices = parseSlotList(command.prices, 'prices');
      const last = prices.slots.at(-1);
      if (last && last.endMs <= now)
        throw new Error(
          `prices: the whole list is past (its last slot ends ${new Date(last.endMs).toISOString()}, before now ${new Date(now).toISOString()}); the prices known are kept: send the list from now on`,
        );
      this.prices = prices;
      this.pricesAtMs = now;
      this.dirty = true;
      return `prices: ${describeList(this.prices)}`;
    }
    if (command.type === 'pvForecast') {
      const forecast = parseSlotList(command.forecast, 'pvForecast');
      this.forecast = forecast.slots.length > 0 ? forecast : undefined;
      this.forecastAtMs = now;
      this.dirty = true;
      return `pvForecast: ${describeList(forecast)}`;
    }
    if (typeof command.chargePointId !== 'string' || !command.chargePointId)
      throw new Error('plan chargePointId is missing (use "*" for every connector)');
    const targets = site.connectors.filter(
      (c) =>
        (command.chargePointId === '*' || c.chargePointId === command.chargePointId) &&
        (command.connectorId === undefined || c.connectorId === command.connectorId),
    );
    if (targets.length === 0)
      throw new Error(
        `plan: no connector ${command.chargePointId}/${command.connectorId ?? '*'} in the site model`,
      );
    const names = targets.map((c) => c.key).join(', ');
    if (command.clear === true) {
      for (const connector of targets) this.plans.delete(connector.key);
      this.dirty = true;
      return `plan of ${names} cleared`;
    }
    const targetPercent =
      command.targetPercent === undefined
        ? undefined
        : commandNumber(command.targetPercent, 'plan targetPercent', { min: 0, max: 100 });
    if (targetPercent !== undefined && (command.energyWh !== undefined || command.energyKWh !== undefined))
      throw new Error('plan: both targetPercent and an energy: send one of them');
    // A plan in % is the energy from the SoC now to the target (each connector's own; modes/soc-plans.ts).
    const percentWh = new Map<string, number>();
    if (targetPercent !== undefined)
      for (const connector of targets)
        percentWh.set(
          connector.key,
          this.soc.energyTo(targetPercent, connector.key, chargerSoc?.(connector.key)),
        );
    const energyWh =
      targetPercent !== undefined
        ? Math.max(...percentWh.values())
        : command.energyWh !== undefined
          ? commandNumber(command.energyWh, 'plan energyWh', { min: 0 })
          : command.energyKWh !== undefined
            ? commandNumber(command.energyKWh, 'plan energyKWh', { min: 0 }) * 1000
            : undefined;
    const departureMs =
      command.departure === undefined ? undefined : timeOf(command.departure, 'plan departure');
    if (departureMs !== undefined && departureMs <= now)
      throw new Error(
        `plan departure: ${new Date(departureMs).toISOString()} (${pastDay(departureMs, now, site.timeZone)}) is past: send the next departure with its date (tomorrow's for a time of day already gone); the plan in force is kept`,
      );
    if ((energyWh === undefined) !== (departureMs === undefined))
      throw new Error(
        energyWh === undefined
          ? 'plan energyKWh is missing (the energy by the departure)'
          : 'plan departure is missing',
      );
    const priceLimit =
      command.priceLimit === undefined || command.priceLimit === null
        ? undefined
        : commandNumber(command.priceLimit, 'plan priceLimit');
    if (energyWh === undefined && priceLimit === undefined && command.priceLimit !== null)
      throw new Error(`plan: neither energyKWh and departure nor priceLimit in ${describeValue(command)}`);
    // An energy replaces the energy and departure (counted anew); a price limit is kept unless given
    // (null removes it).
    for (const connector of targets) {
      const old = this.plans.get(connector.key) ?? {};
      const plan: FlowPlan =
        energyWh === undefined
          ? { ...old }
          : targetPercent === undefined
            ? { energyWh, departureMs }
            : { energyWh: percentWh.get(connector.key) ?? energyWh, departureMs, targetPercent };
      const limit = command.priceLimit === null ? undefined : (priceLimit ?? old.priceLimit);
      if (limit === undefined) delete plan.priceLimit;
      else plan.priceLimit = limit;
      this.plans.set(connector.key, plan);
    }
    this.dirty = true;
    const what = [
      energyWh === undefined
        ? ''
        : `${targetPercent === undefined ? '' : `${targetPercent} %: `}${Math.round(energyWh) / 1000} kWh by ${new Date(departureMs ?? 0).toISOString()}`,
      priceLimit === undefined ? '' : `price limit ${priceLimit}`,
    ].filter(Boolean);
    return `plan of ${names}: ${what.join(', ') || 'price limit removed'}`;
  }

  /** What is kept across a restart (see KeptPrices); the plans' energy counted so far with them. */
  kept(): KeptPrices {
    this.dirty = false;
    const prices = keptList(this.prices, this.pricesAtMs);
    const pvForecast = keptList(this.forecast, this.forecastAtMs);
    return {
      ...(prices ? { prices } : {}),
      ...(pvForecast ? { pvForecast } : {}),
      ...(this.plans.size > 0 ? { plans: Object.fromEntries(this.plans) } : {}),
    };
  }

  /**
   * Takes back what was kept (see `kept`), each part only while it still means something
   * (modes/price-kept.ts says what and names what it drops).
   */
  restore(kept: unknown, site: Site, now: number, logger: Logger): void {
    if (!isObject(kept)) return;
    const prices = restoreList(kept.prices, 'prices', now, logger);
    if (prices) [this.prices, this.pricesAtMs] = [prices.list, prices.atMs];
    const forecast = restoreList(kept.pvForecast, 'pvForecast', now, logger);
    if (forecast) [this.forecast, this.forecastAtMs] = [forecast.list, forecast.atMs];
    for (const [key, plan] of restorePlans(kept.plans, site, now, logger)) this.plans.set(key, plan);
  }

  /** Decides the mode of every `price` connector for this update (see the module comment). */
  decide(context: PriceContext, now: number): void {
    const { site, runtimes } = context;
    this.planned.clear();
    site.connectors.forEach((connector, k) => {
      const runtime = runtimes.of(connector);
      const flow = this.plans.get(connector.key);
      if (flow) countEnergy(flow, runtime.state?.energyWh);
      if (chosenMode(site, connector, runtime) !== 'price') {
        runtime.priceMode = undefined;
        runtime.pricePlan = undefined;
        runtime.pricePlanned = undefined;
        return;
      }
      const { fast, words, figures } = this.decideOne(context, connector, k, flow, now);
      runtime.priceMode = fast ? 'fast' : 'pv';
      runtime.pricePlan = words;
      runtime.pricePlanned = figures;
      if (figures) this.planned.set(connector.key, figures);
    });
  }

  private decideOne(
    context: PriceContext,
    connector: Connector,
    k: number,
    flow: FlowPlan | undefined,
    now: number,
  ): { fast: boolean; words: Reason; figures?: PlanFigures } {
    const { site } = context;
    const runtime = context.runtimes.of(connector);
    const currency = this.prices.currency;
    const priceNow = slotAt(this.prices.slots, now)?.value;
    const limit = flow?.priceLimit;
    const belowLimit = limit !== undefined && priceNow !== undefined && priceNow <= limit;
    const limitWords =
      limit === undefined
        ? undefined
        : priceNow === undefined
          ? say('noPriceNow', { price: describePrice(limit, currency) })
          : say(belowLimit ? 'atOrBelowLimit' : 'aboveLimit', {
              price: describePrice(priceNow, currency),
              limit: describePrice(limit, currency),
            });
    const goal = this.goalOf(flow, runtime);
    if (goal && goal.departureMs > now) {
      const view = context.views[k];
      const needs = runtime.state?.carNeeds;
      const phases = Math.max(
        1,
        Math.min(
          view ? (view.phasesOut === 1 ? 1 : view.gridPhases.length) : (connector.phases ?? 3),
          needs?.phases ?? 3,
        ),
      );
      const perAW = phases * site.voltageV;
      const socDone =
        flow?.targetPercent === undefined
          ? undefined
          : this.soc.done(
              flow.targetPercent,
              connector.key,
              runtime.state?.socPercent,
              runtime.state?.status,
            );
      const remainingWh = socDone ? 0 : goal.energyWh - goal.takenWh;
      if (!(remainingWh > 0)) {
        const time = clockTime(goal.departureMs, now, site.timeZone);
        const reached = socDone
          ? say(socDone.full ? 'fullBefore' : 'percentReached', { percent: socDone.percent, time })
          : say('reached', { kWh: (Math.round(goal.energyWh / 100) / 10).toFixed(1), time });
        return {
          fast: belowLimit,
          words: limitWords ? [reached, limitWords] : [say('pvSurplusOnly', { why: [reached] })],
        };
      }
      const maxW =
        this.smoothedFreeA(connector.key, freeA(context, connector, k), connector.maxA, now) * perAW;
      const plan = planDeparture({
        now,
        departureMs: goal.departureMs,
        remainingWh,
        maxW,
        minRunWh: (maxW * site.control.minOnMs) / 3_600_000,
        minW: (view?.minA ?? connector.minA) * perAW,
        prices: this.prices.slots,
        ...(this.forecast ? { pvForecast: this.forecast.slots } : {}),
        ...(context.surplusW === undefined ? {} : { pvNowW: context.surplusW }),
        chargingNow: runtime.priceMode === 'fast' && (view?.sentA ?? 0) > 0,
      });
      const words = describeDeparturePlan(plan, goal.departureMs, now, site.timeZone, currency);
      const fast = plan.chargeNow || belowLimit;
      return {
        fast,
        words: limitWords && belowLimit && !plan.chargeNow ? [limitWords, ...words] : words,
        figures: planFigures(plan, goal.departureMs),
      };
    }
    if (limitWords)
      return {
        fast: belowLimit,
        words: [say(belowLimit ? 'chargingNow' : 'pvSurplusOnly', { why: [limitWords] })],
      };
    return { fast: false, words: [say('noPlan')] };
  }

  /**
   * What the breakers leave the car, A, followed over `FREE_SMOOTHING_MS`: a charger's meter that
   * reports after the grid meter counts the car's new current as other load for a few seconds;
   * a plan over hours follows the house, not that. Before the first update it is the car's own cap.
   */
  private smoothedFreeA(key: string, amps: number, capA: number, now: number): number {
    // From the car's own cap (what it has before a reading says otherwise); a rise is taken at once.
    const last = this.free.get(key) ?? { amps: capA, atMs: now };
    const share = Math.min(1, Math.max(0, now - last.atMs) / FREE_SMOOTHING_MS);
    const smoothed = amps >= last.amps ? amps : last.amps + share * (amps - last.amps);
    this.free.set(key, { amps: smoothed, atMs: now });
    return smoothed;
  }

  /** The energy asked for by when, and what was taken of it: the flow's plan, else the car's ISO 15118 needs. */
  private goalOf(
    flow: FlowPlan | undefined,
    runtime: ReturnType<ConnectorRuntimes['of']>,
  ): { energyWh: number; departureMs: number; takenWh: number } | undefined {
    if (flow?.energyWh !== undefined && flow.departureMs !== undefined) {
      const takenWh =
        flow.fromWh === undefined || flow.lastWh === undefined ? 0 : Math.max(0, flow.lastWh - flow.fromWh);
      return { energyWh: flow.energyWh, departureMs: flow.departureMs, takenWh };
    }
    const needs = runtime.state?.carNeeds;
    if (needs?.energyWh === undefined || needs.departureTime === undefined) return undefined;
    const departureMs = timeOrUndefined(needs.departureTime);
    if (departureMs === undefined) return undefined;
    const session = runtime.session;
    const takenWh =
      session.needsFromWh === undefined || session.needsLastWh === undefined
        ? 0
        : Math.max(0, session.needsLastWh - session.needsFromWh);
    return { energyWh: needs.energyWh, departureMs, takenWh };
  }

  /**
   * The price now, until when prices are known and the curve of the next hours with the planned
   * slots marked (modes/plan-figures.ts), for the summary (undefined without prices).
   */
  summary(now: number): PricesSummary | undefined {
    const last = this.prices.slots.at(-1);
    if (!last) return undefined;
    const priceNow = slotAt(this.prices.slots, now)?.value;
    return {
      ...(priceNow === undefined ? {} : { now: priceNow }),
      ...(this.prices.currency ? { currency: this.prices.currency } : {}),
      until: new Date(last.endMs).toISOString(),
      slots: priceCurve(this.prices.slots, now, this.planned),
    };
  }
}

/** Counts the energy register into a flow plan: from the first value seen after the plan was made. */
function countEnergy(plan: FlowPlan, registerWh: number | undefined): void {
  if (registerWh === undefined || plan.energyWh === undefined) return;
  if (plan.fromWh === undefined || plan.lastWh === undefined) plan.fromWh = registerWh;
  // A register that went back (a new meter, a reset) counts on from there, keeping what was taken.
  else if (registerWh < plan.lastWh) plan.fromWh = registerWh - (plan.lastWh - plan.fromWh);
  plan.lastWh = registerWh;
}

/**
 * What the breakers let the connector take at the last update, A per phase: its cap, at most what
 * each circuit on its path had left beside its other loads (never counting a PV export: the planner
 * counts PV apart).
 */
function freeA(context: PriceContext, connector: Connector, k: number): number {
  const view = context.views[k];
  // Its own maximum, the operator's and the car's (not a car's passing under-draw).
  const state = context.runtimes.of(connector).state;
  let amps = Math.min(connector.maxA, state?.operatorLimitA ?? Infinity, state?.carNeeds?.maxA ?? Infinity);
  const phases = view?.gridPhases ?? [0, 1, 2];
  for (const c of connector.path) {
    const circuit = context.site.circuits[c];
    const circuitView = context.circuitViews[c];
    if (!circuit) continue;
    for (const p of phases)
      amps = Math.min(
        amps,
        leftA(circuit, circuitView?.limitA ?? circuit.limitA, p, Math.max(0, circuitView?.otherA[p] ?? 0)),
      );
  }
  return Math.max(0, amps);
}

function timeOrUndefined(value: unknown): number | undefined {
  try {
    return timeOf(value, 'departureTime');
  } catch {
    return undefined;
  }
}

/** A past time for the departure's error: `07:00 today`, else its date and time in the site's zone. */
function pastDay(atMs: number, now: number, timeZone: string): string {
  const day = (ms: number) => clockTime(ms, ms - 86_400_000, timeZone).slice(0, 10);
  const time = clockTime(atMs, atMs, timeZone);
  return day(atMs) === day(now) ? `${time} today` : `${day(atMs)} ${time}`;
}
