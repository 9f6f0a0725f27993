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
import { Preferences } from './preferences';
import { type PriceContext, PricePlans } from './price-plans';
import { PvSurplus } from './pv';

/** The commands the modes take. */
export type ModeCommand = Extract<DlmCommand, { type: 'mode' | 'priority' | 'pv' }> | PriceCommand;

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

  constructor(host: ModeStagesHost, logger: Logger) {
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
      default: // prices, pvForecast, plan
        return this.prices.command(command, site, now);
    }
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
