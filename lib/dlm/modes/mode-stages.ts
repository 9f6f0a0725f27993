/**
 * The modes as the load manager (load-manager.ts) runs them: what each car should get. It composes
 * the preferences (modes/preferences.ts: each connector's mode and priority, with their JSONata
 * expressions), the price stage (modes/price-plans.ts: prices, the PV forecast, departure plans,
 * the `price` mode's choice) and the PV stage (modes/pv.ts: the surplus, enabling and disabling
 * pv cars). It takes the flow's commands for them (`mode`, `priority`, `pv`, `prices`,
 * `pvForecast`, `plan`), evaluates the expressions again as time passes, and runs the price stage
 * before the observer; the load manager calls the PV stage's steps where they fall in an update.
 */
import type { Logger } from '../../log';
import type { DlmCommand, PriceCommand } from '../commands';
import type { ConnectorRuntimes } from '../runtime';
import type { Site } from '../site/model';
import { type KeptPreferences, Preferences } from './preferences';
import { type KeptPrices, type PriceContext, PricePlans } from './price-plans';
import { type KeptPv, PvSurplus } from './pv';

/** The commands the modes take. */
export type ModeCommand = Extract<DlmCommand, { type: 'mode' | 'priority' | 'pv' }> | PriceCommand;

/**
 * What the modes keep across a restart and a redeploy (lib/dlm/memory.ts keeps it): what the flow
 * sent (modes and priorities, prices, the PV forecast, plans, PV settings) and the PV timers of
 * each car. Plain JSON; each part is its stage's to write and to read back.
 */
export interface KeptModes {
  preferences?: KeptPreferences;
  prices?: KeptPrices;
  pv?: KeptPv;
}

/** What the modes need from the load manager around them. */
export interface ModeStagesHost {
  site(): Site;
  runtimes: ConnectorRuntimes;
  now(): number;
  /** Whether the load manager was stopped (no update after an expression resolves then). */
  stopped(): boolean;
  /** Runs an update (expression results came in). */
  update(): void;
}

export class ModeStages {
  readonly preferences: Preferences;
  readonly prices = new PricePlans();
  readonly pv = new PvSurplus();
  /** When the expressions were last evaluated because time passed (they may depend on `$now()`). */
  private lastEvaluationAtMs: number | undefined;

  constructor(
    private readonly host: ModeStagesHost,
    private readonly logger: Logger,
  ) {
    this.preferences = new Preferences(
      {
        site: host.site,
        runtimes: host.runtimes,
        now: host.now,
        evaluated: (connector) => {
          if (host.stopped()) return;
          try {
            host.update();
          } catch (err) {
            const why = err instanceof Error ? err.message : String(err);
            logger.error(`update after evaluating the expressions of ${connector.key} failed: ${why}`);
          }
        },
      },
      logger,
    );
  }

  /** A mode, priority, pv, prices, pvForecast or plan command; returns what it did. */
  command(command: ModeCommand, site: Site, now: number): string {
    switch (command.type) {
      case 'mode':
      case 'priority':
        return this.preferences.command(command);
      case 'pv':
        return this.pv.command(command);
      default: // prices, pvForecast, plan, soc
        return this.prices.command(command, site, now, (key) => {
          const connector = site.connectors.find((c) => c.key === key);
          return connector ? this.host.runtimes.of(connector).state?.socPercent : undefined;
        });
    }
  }

  /** A command changed what is kept since the last `kept()`: it is written at once. */
  get dirty(): boolean {
    return this.preferences.dirty || this.prices.dirty || this.pv.dirty;
  }

  /** Whether a car has PV timers to keep (written once a minute while it has). */
  get timing(): boolean {
    return this.pv.timing(this.host.site(), this.host.runtimes);
  }

  /** What is kept (see KeptModes). */
  kept(): KeptModes {
    const site = this.host.site();
    return {
      preferences: this.preferences.kept(),
      prices: this.prices.kept(),
      pv: this.pv.kept(site, this.host.runtimes),
    };
  }

  /**
   * Takes back what was kept `awayMs` ago (see KeptModes): each stage keeps what still means
   * something now and names what it drops.
   */
  restore(kept: unknown, awayMs: number): void {
    if (typeof kept !== 'object' || kept === null) return;
    const { preferences, prices, pv } = kept as Record<string, unknown>;
    const now = this.host.now();
    this.preferences.restore(preferences);
    this.prices.restore(prices, this.host.site(), now, this.logger);
    this.pv.restore(pv, awayMs, now, this.logger);
  }

  /**
   * A site (the first, or one that replaced the last: expressions compiled for the old one are
   * dropped): every connector's expressions are evaluated for it.
   */
  adopt(site: Site, replaced: boolean): void {
    if (replaced) this.preferences.reset();
    for (const connector of site.connectors) this.preferences.evaluate(connector, 'input');
  }

  /**
   * The modes' part of an update before the observer: the expressions are evaluated again at most
   * every `control.minUpdateIntervalMs` (they may depend on time), and the price stage decides
   * what each `price` car does now, on what the last update saw (its views, the surplus).
   */
  beforeObserver(context: Omit<PriceContext, 'surplusW'>, now: number): void {
    const { site } = context;
    const last = this.lastEvaluationAtMs;
    if (last === undefined || now - last >= site.control.minUpdateIntervalMs) {
      if (last !== undefined) for (const c of site.connectors) this.preferences.evaluate(c, 'time');
      this.lastEvaluationAtMs = now;
    }
    this.prices.decide({ ...context, surplusW: this.pv.state?.surplusW }, now);
  }
}
