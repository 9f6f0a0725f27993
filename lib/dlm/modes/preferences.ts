/**
 * Preferences stage: each connector's charging mode and priority. A command from the flow
 * overrides them; otherwise the site's setting, a transaction's tag priority, or the result of a
 * JSONata expression over the connector's state (evaluated asynchronously: while an input changed
 * what the expressions see and the results are not in, no connector is raised). What they make
 * together, the mode and priority in force, is read in evidence/preference-in-force.ts.
 */
import type { Logger } from '../../log';
import type { DlmCommand } from '../commands';
import { sessionEnergyWh } from '../evidence/observations';
import type { ConnectorRuntime } from '../parts';
import type { ConnectorRuntimes } from '../runtime';
import { CHARGING_MODES, type ChargingMode } from '../site/config';
import type { Connector, Site } from '../site/model';
import type { Reason } from '../words';
import { ExpressionEvaluator, type ExpressionInput } from './expressions';

/** What the preferences need from the load manager around them. */
export interface PreferencesHost {
  site(): Site;
  runtimes: ConnectorRuntimes;
  now(): number;
  /** Results came in (also after a failure): update, unless stopped. */
  evaluated(connector: Connector): void;
}

/** The modes and priorities a command set, by connector key, as kept across a restart (lib/dlm/memory.ts). */
export type KeptPreferences = Record<string, { mode?: ChargingMode; priority?: number }>;

export class Preferences {
  /** A command changed what is kept since the last `kept()`. */
  dirty = false;
  private readonly evaluator: ExpressionEvaluator;
  private readonly pending = new Set<Promise<void>>();
  /** Evaluations started by an input that changed what the expressions see: no increase until they are in. */
  private readonly gating = new Set<Promise<void>>();

  constructor(
    private readonly host: PreferencesHost,
    private readonly logger: Logger,
  ) {
    this.evaluator = new ExpressionEvaluator(logger);
  }

  /** Whether an increase must wait for expression results. */
  get waiting(): boolean {
    return this.gating.size > 0;
  }

  /** Resolves when every pending expression evaluation has been applied. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** A replaced site: expressions compiled for the old one are dropped. */
  reset(): void {
    this.evaluator.reset();
  }

  /** A mode or priority command (null: back to the configured one). Returns what it did. */
  command(command: Extract<DlmCommand, { type: 'mode' | 'priority' }>): string {
    const site = this.host.site();
    const targets = site.connectors.filter(
      (c) =>
        (command.chargePointId === '*' || c.chargePointId === command.chargePointId) &&
        (command.connectorId === undefined || c.connectorId === command.connectorId),
    );
    if (targets.length === 0) {
      throw new Error(
        `no connector ${command.chargePointId}/${command.connectorId ?? '*'} in the site model`,
      );
    }
    for (const connector of targets) {
      const record = this.host.runtimes.of(connector);
      if (command.type === 'mode') {
        if (command.mode !== null && !(CHARGING_MODES as readonly string[]).includes(command.mode)) {
          throw new Error(`mode ${JSON.stringify(command.mode)} is not one of ${CHARGING_MODES.join(', ')}`);
        }
        if (command.mode === null) record.modeOverride = undefined;
        else record.modeOverride = command.mode;
      } else {
        if (command.priority !== null && !Number.isFinite(command.priority)) {
          throw new Error(`priority ${JSON.stringify(command.priority)} is not a number`);
        }
        if (command.priority === null) record.priorityOverride = undefined;
        else record.priorityOverride = command.priority;
      }
    }
    this.dirty = true;
    const value = command.type === 'mode' ? command.mode : command.priority;
    return `${command.type} of ${targets.map((c) => c.key).join(', ')} ${value === null ? 'back to the configured one' : `set to ${value}`}`;
  }

  /** The modes and priorities commands set (see KeptPreferences). */
  kept(): KeptPreferences {
    this.dirty = false;
    const kept: KeptPreferences = {};
    for (const connector of this.host.site().connectors) {
      const { modeOverride: mode, priorityOverride: priority } = this.host.runtimes.of(connector);
      if (mode === undefined && priority === undefined) continue;
      kept[connector.key] = {
        ...(mode === undefined ? {} : { mode }),
        ...(priority === undefined ? {} : { priority }),
      };
    }
    return kept;
  }

  /**
   * Takes back the modes and priorities commands set before a restart; one whose connector left
   * the site, or that is not a mode or a number, is dropped with a line naming it.
   */
  restore(kept: unknown): void {
    if (typeof kept !== 'object' || kept === null) return;
    const site = this.host.site();
    for (const [key, value] of Object.entries(kept as Record<string, unknown>)) {
      const connector = site.connectors.find((c) => c.key === key);
      const { mode, priority } = (typeof value === 'object' && value !== null ? value : {}) as {
        mode?: unknown;
        priority?: unknown;
      };
      const problem = !connector
        ? 'no such connector in the site any more'
        : mode !== undefined && !(CHARGING_MODES as readonly unknown[]).includes(mode)
          ? `mode ${JSON.stringify(mode)} is not one of ${CHARGING_MODES.join(', ')}`
          : priority !== undefined && !(typeof priority === 'number' && Number.isFinite(priority))
            ? `priority ${JSON.stringify(priority)} is not a number`
            : mode === undefined && priority === undefined
              ? `neither a mode nor a priority in ${JSON.stringify(value)}`
              : undefined;
      if (problem || !connector) {
        this.logger.warn(`mode and priority of ${key} set by message before the restart dropped: ${problem}`);
        continue;
      }
      const record = this.host.runtimes.of(connector);
      if (mode !== undefined) record.modeOverride = mode as ChargingMode;
      if (priority !== undefined) record.priorityOverride = priority as number;
      const said = [
        mode === undefined ? '' : `mode ${mode}`,
        priority === undefined ? '' : `priority ${priority}`,
      ];
      this.logger.info(
        `${said.filter(Boolean).join(', ')} of ${key} set by message before the restart taken back`,
      );
    }
  }

  /**
   * Starts the evaluation of the connector's priority and mode expressions. `input`: after an input
   * that may change what they see; if it did, no connector is raised until the results are in
   * (a decrease may still go out at once). `time`: a periodic re-evaluation ($now()).
   */
  evaluate(connector: Connector, why: 'input' | 'time'): void {
    const site = this.host.site();
    const runtime = this.host.runtimes.of(connector);
    const mode = connector.mode ?? site.defaultMode;
    if (typeof mode !== 'object' && typeof connector.priority !== 'object') return;
    const jobs: Promise<void>[] = [];
    const { now: _now, ...seen } = this.expressionInput(site, connector, runtime);
    const seenKey = JSON.stringify(seen);
    const gating = why === 'input' && seenKey !== runtime.lastExprInput;
    runtime.lastExprInput = seenKey;
    const input = () => this.expressionInput(site, connector, runtime);
    if (typeof mode === 'object') {
      jobs.push(
        this.evaluator
          .evaluate(
            mode.expression,
            input(),
            { connector: connector.key, field: 'mode' },
            (value) =>
              (CHARGING_MODES as readonly unknown[]).includes(value) ? (value as ChargingMode) : undefined,
            'fast' as ChargingMode,
          )
          .then((outcome) => {
            runtime.exprMode = outcome.value;
            setOrDelete(runtime.exprErrors, 'mode', outcome.error);
          }),
      );
    }
    if (typeof connector.priority === 'object') {
      jobs.push(
        this.evaluator
          .evaluate(
            connector.priority.expression,
            input(),
            { connector: connector.key, field: 'priority' },
            (value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined),
            runtime.state?.transaction?.priority ?? 0,
          )
          .then((outcome) => {
            runtime.exprPriority = outcome.value;
            setOrDelete(runtime.exprErrors, 'priority', outcome.error);
          }),
      );
    }
    if (jobs.length === 0) return;
    const finish = () => {
      this.pending.delete(job);
      this.gating.delete(job);
    };
    // Never an unhandled rejection, never an update or an emit after stop().
    const job: Promise<void> = Promise.all(jobs).then(
      () => {
        finish();
        this.host.evaluated(connector);
      },
      (err: unknown) => {
        finish();
        this.logger.error(
          `evaluating the expressions of ${connector.key} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        this.host.evaluated(connector);
      },
    );
    this.pending.add(job);
    if (gating) this.gating.add(job);
  }

  private expressionInput(site: Site, connector: Connector, runtime: ConnectorRuntime): ExpressionInput {
    const state = runtime.state;
    const tx = state?.transaction;
    return {
      connector: state ? structuredClone(state) : {},
      config: {
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        name: connector.name,
        circuit: site.circuits[connector.circuitIndex]?.id ?? '',
        minA: connector.minA,
        maxA: connector.maxA,
        phases: connector.phases,
      },
      chargePointId: connector.chargePointId,
      connectorId: connector.connectorId,
      status: state?.status ?? null,
      idTag: tx?.idTag ?? null,
      tagPriority: tx?.priority ?? null,
      energyWh: sessionEnergyWh(state),
      startedAt: tx?.startedAt ?? null,
      socPercent: state?.socPercent ?? null,
      now: new Date(this.host.now()).toISOString(),
    };
  }
}

function setOrDelete(map: Map<string, Reason>, key: string, value: Reason | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}
