/**
 * Priorities and modes written as JSONata expressions, evaluated per connector over its state.
 * Compiled once per text; a failing expression falls back to the default value and is reported once
 * per connector and expression (not on every evaluation), naming both.
 */
import jsonata from 'jsonata';
import type { ConnectorState } from '../../contracts';
import type { Logger } from '../../log';
import { english, given, type Reason, type Said, say } from '../words';

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
  error?: Reason;
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
    what: { connector: string; field: 'mode' | 'priority' },
    accept: (value: unknown) => T | undefined,
    fallback: T,
  ): Promise<ExpressionOutcome<T>> {
    // JSONata's own message is its words, shown as they came.
    let error: Said;
    const compiled = this.compile(expression);
    if (compiled instanceof Error) error = given(compiled.message);
    else {
      try {
        const raw: unknown = await compiled.evaluate(input);
        const value = accept(raw);
        if (value !== undefined) return { value };
        error = raw === undefined ? say('returnedNothing') : say('returned', { value: JSON.stringify(raw) });
      } catch (err) {
        error = given((err as Error).message);
      }
    }
    const field = what.field === 'mode' ? say('modeField') : say('priorityField');
    const reason = [
      say('expressionFailed', {
        connector: what.connector,
        field: [field],
        expression,
        error: [error],
        fallback: JSON.stringify(fallback),
      }),
    ];
    const message = english(reason);
    const key = `${what.connector}\u0000${what.field}\u0000${expression}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.logger.warn(message);
    }
    return { value: fallback, error: reason };
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
