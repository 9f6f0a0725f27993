/**
 * A charger's CALL from the socket to the central system's handlers, step by step: the connection
 * admits it (its version's rules, errata 3.8: connection.ts), the status recall hears of a boot
 * (status-recall.ts), the operator's backend may decide the answer first (the gate's room between,
 * lib/upstream through CentralSystem.interpose), then the central system's own handlers answer
 * (handlers.ts), and the connection checks the answer. An OCPP 2.0.1 charger's call is translated
 * first (v201/station.ts): the translation yields the shared (1.6) calls it becomes and this hands
 * each to `handle`, as a 1.6 charger's call. Concrete objects called by name, so that "go to
 * definition" follows a MeterValues of either version from the socket to the handlers.
 */
import type { ChargePointAction } from './actions';
import type { MaybePromise } from './central-types';
import type { ChargePointConnection } from './connection';
import type { ChargePointHandlers } from './handlers';
import type { StatusRecall } from './status-recall';
import type { TrafficGate } from './traffic';
import type { SharedCall, Translation201 } from './v201/shared-path';
import type { Station201 } from './v201/station';

/** The steps a charger's CALL passes after its socket (LiveConnections.attach hands each here). */
export class ChargerCalls {
  /** The central system's handlers, which exist only while it runs (central-lifecycle.ts puts and takes them). */
  handlers: ChargePointHandlers | undefined;

  constructor(
    private readonly recall: StatusRecall,
    private readonly gate: TrafficGate,
  ) {}

  /**
   * One CALL as ocpp-rpc hands it: admitted by the connection, answered, the answer checked.
   * A throw (or rejection) is answered with a CallError; an answer decided at once needs no
   * promise of ours (ocpp-rpc awaits what the handler returns).
   */
  take(
    connection: ChargePointConnection,
    method: string,
    params: unknown,
    messageId?: string,
  ): MaybePromise<unknown> {
    connection.admit(method, params, messageId);
    let response: MaybePromise<unknown>;
    try {
      const station = connection.translation;
      response = station
        ? this.answer201(connection, station, method, params as Record<string, unknown>)
        : this.handle(connection, method as ChargePointAction, params);
    } catch (err) {
      throw connection.handlingFailed(method, err);
    }
    if (!(response instanceof Promise)) return connection.checkedAnswer(method, response);
    return response.then(
      (answer) => connection.checkedAnswer(method, answer),
      (err: unknown) => {
        throw connection.handlingFailed(method, err);
      },
    );
  }

  /**
   * Answers one CALL in the shared (1.6) shapes: `decided` is what the room between decided for a
   * 2.0.1 charger's call (it met the room as it came, before its translation), so it does not
   * pass the room again. With no room between, the handlers answer at once; else the room sees
   * the call first and the handlers answer with what it decided.
   */
  handle(
    connection: ChargePointConnection,
    action: ChargePointAction,
    request: unknown,
    decided?: unknown,
  ): MaybePromise<unknown> {
    if (action === 'BootNotification') this.recall.booted(connection.identity);
    const handlers = this.requireHandlers();
    if (decided !== undefined) return handlers.handle(action, request, connection, decided);
    const traffic = this.gate.between(connection.identity);
    if (!traffic) return handlers.handle(action, request, connection);
    return traffic.request(connection.identity, action, request, (forLocal, decidedThere) =>
      handlers.handle(action, forLocal, connection, decidedThere),
    );
  }

  /**
   * A valid 2.0.1 CALL: through the room between, as it came, where it takes them (lib/upstream:
   * it decides first, then the translation answers with what it decided); then translated.
   */
  private answer201(
    connection: ChargePointConnection,
    station: Station201,
    method: string,
    request: Record<string, unknown>,
  ): MaybePromise<unknown> {
    const room = this.gate.room201();
    if (!room) return this.translated201(connection, station, method, request);
    return room.request201(connection.identity, method, request, (decided) =>
      this.translated201(connection, station, method, request, decided),
    );
  }

  /**
   * The station's translation of a 2.0.1 call, run: each shared call it yields goes to `handle`
   * and its answer back to the translation, which returns the 2.0.1 answer.
   */
  private translated201(
    connection: ChargePointConnection,
    station: Station201,
    method: string,
    request: Record<string, unknown>,
    decided?: Record<string, unknown>,
  ): MaybePromise<unknown> {
    const steps = connection.translate201(station, method, request, decided);
    return station.awaitsEachAnswer(method)
      ? this.followAwaiting(connection, steps)
      : this.follow(connection, steps, steps.next());
  }

  /** Runs a translation on at once while the answers are there; from the first promise on, after it. */
  private follow(
    connection: ChargePointConnection,
    steps: Translation201,
    first: IteratorResult<SharedCall, unknown>,
  ): MaybePromise<unknown> {
    let step = first;
    while (!step.done) {
      const { action, request, decided } = step.value;
      const answer = this.handle(connection, action, request, decided);
      if (answer instanceof Promise)
        return answer.then((value) => this.follow(connection, steps, steps.next(value)));
      step = steps.next(answer);
    }
    return step.value;
  }

  /** Runs a translation on after each answer, on a later turn (Station201.awaitsEachAnswer). */
  private async followAwaiting(connection: ChargePointConnection, steps: Translation201): Promise<unknown> {
    let step = steps.next();
    while (!step.done) {
      const { action, request, decided } = step.value;
      let answer: unknown;
      try {
        answer = await this.handle(connection, action, request, decided);
      } catch (err) {
        // Thrown where the translation waits for it, as an awaited call throws.
        step = steps.throw(err);
        continue;
      }
      step = steps.next(answer);
    }
    return step.value;
  }

  private requireHandlers(): ChargePointHandlers {
    if (!this.handlers) throw new Error('the central system is not started');
    return this.handlers;
  }
}
