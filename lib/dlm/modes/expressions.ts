/**
 * Priorities and modes written as JSONata expressions, evaluated per connector over its state.
 * Compiled once per text; a failing expression falls back to the default value and is reported once
 * per connector and expression (not on every evaluation), naming both.
 */
import jsonata from 'jsonata';
import type { ConnectorState } from '../../contracts';
import type { Logger } from '../../log';

/** What an expression sees (its input, `$` in JSONata). */
export interface ExpressionInput {
  /** The connector's state as the central system reports it (status, transaction, currents, ...). */
  connector: ConnectorState | Record<string, never>;
  /** The connector's settings: chargePointId, connectorId, name, circuit, minA, maxA, phases. */
  config: {
    chargePointId: string;
    connectorId: number;
    name: string;
    circuit: string;
    minA: number;
    maxA: number;
    phases: number;
  };
  chargePointId: string;
  connectorId: number;
  status: string | null;
  /** The id tag of the running transaction, or null. */
  idTag: string | null;
  /** The id tag's priority (VIP flag) from the central system, or null. */
  tagPriority: number | null;
  /** Energy delivered in this session, Wh. */
  energyWh: number;
  /** Session start (ISO 8601), or null. */
  startedAt: string | null;
  socPercent: number | null;
  /** Evaluation time (ISO 8601, from the load manager's clock). */
  now: string;
}

export interface ExpressionOutcome<T> {
  value: T;
  /** Set when the expression failed or returned something unusable; the default was used. */
  error?: string;
}

export class ExpressionEvaluator {
  private readonly compiled = new Map<string, jsonata.Expression | Error>();
  private readonly reported = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /**
   * Evaluates `expression` and checks the result with `accept` (which returns the value or
   * undefined). On failure returns `fallback` and reports once for this connector and expression.
   */
  async evaluate<T>(
    expression: string,
    input: ExpressionInput,
    what: { connector: string; field: string },
    accept: (value: unknown) => T | undefined,
    fallback: T,
  ): Promise<ExpressionOutcome<T>> {
    let error: string | undefined;
    const compiled = this.compile(expression);
    if (compiled instanceof Error) error = compiled.message;
    else {
      try {
        const raw: unknown = await compiled.evaluate(input);
        const value = accept(raw);
        if (value !== undefined) return { value };
        error = `returned ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`;
      } catch (err) {
        error = (err as Error).message;
      }
    }
    const message = `connector ${what.connector}: ${what.field} expression "${expression}" failed (${error}); using ${JSON.stringify(fallback)}`;
    const key = `${what.connector}\u0000${what.field}\u0000${expression}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.logger.warn(message);
    }
    return { value: fallback, error: message };
  }

  /** Forgets which failures were reported (after a new configuration). */
  reset(): void {
    this.reported.clear();
  }

  private compile(expression: string): jsonata.Expression | Error {
    let compiled = this.compiled.get(expression);
    if (!compiled) {
      try {
        compiled = jsonata(expression);
      } catch (err) {
        compiled = new Error(`does not parse: ${(err as Error).message}`);
      }
      this.compiled.set(expression, compiled);
    }
    return compiled;
  }
}
