import { OCPP20 } from 'typed-ocpp';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { Charger201 } from '../../support/charger201';
import { type FrameCheck, unansweredProblem } from './fuzz-lanes';
import type { Frame201 } from './ocpp201-frames';
import { KNOWN_CODES, SPELT_AS_16 } from './ocpp201-violations';
import type { RawCharger } from './raw-socket';

/**
 * How the OCPP fuzzer (fuzz-ocpp_spec.ts) judges what the central system did for 2.0.1: its
 * answers by typed-ocpp's copy of the OCA schemas, spelt as 2.0.1 spells them; its state, for numbers no
 * meter has; and a well-behaved 2.0.1 charger beside the fuzzing.
 */

/**
 * typed-ocpp's verdict on `frame`; the properties its ajv strips silently (removeAdditional) count
 * too, as with the test charger (test/support/charger201-wire.ts).
 */
export function typedOcppProblems(
  frame: unknown,
  validate: (copy: never) => boolean,
  errors: () => string[],
): string[] {
  const wire = JSON.stringify(frame);
  const copy = JSON.parse(wire);
  if (!validate(copy as never)) return [...errors()];
  const kept = JSON.stringify(copy);
  return kept === wire ? [] : [`properties the schema does not have: sent ${wire}, valid ${kept}`];
}

/** What is wrong with `result` as a CALLRESULT to `call`. */
export function callResultProblems(call: unknown[], result: unknown[]): string[] {
  const valid = (copy: never) =>
    OCPP20.validateCallResult(copy) && OCPP20.checkCallResult(copy, call as OCPP20.Call);
  return typedOcppProblems(result, valid, () => [
    ...OCPP20.validateCallResult.errors,
    ...OCPP20.checkCallResult.errors,
  ]);
}

/** What is wrong with a CALLERROR as an answer with one of `codes` to one of `ids`; undefined if nothing. */
export function callErrorProblem(
  text: string,
  ids: readonly string[],
  codes: readonly string[],
  names?: string,
) {
  const answer = JSON.parse(text) as unknown[];
  const [type, id, code, description, details] = answer;
  if (type !== 4 || answer.length !== 5 || typeof description !== 'string')
    return `answered ${text.slice(0, 300)}, not a CALLERROR [4, id, code, description, details]`;
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return `answered ${text.slice(0, 300)}: errorDetails is not a JSON object`;
  if (SPELT_AS_16.has(String(code)))
    return `answered ${JSON.stringify([type, id, code, description])}: ${String(code)} is 1.6's spelling, not 2.0.1's`;
  if (!KNOWN_CODES.has(String(code))) return `answered ${String(code)}, which is no OCPP-J 2.0.1 error code`;
  if (!ids.includes(String(id)) || !codes.includes(String(code)))
    return `answered ${JSON.stringify([type, id, code, description])}, expected [4, ${ids.map((i) => JSON.stringify(i)).join(' or ')}, ${codes.join(' or ')}]`;
  if (names && !description.includes(names))
    return `the description ${JSON.stringify(description)} does not name ${JSON.stringify(names)}`;
  return undefined;
}

/**
 * The 2.0.1 check of a fuzz frame's answer (fuzz-lanes.ts): an answer spelt and shaped as OCPP-J
 * 2.0.1 asks, or none; `unreadableLogged` counts the rejections logged for the socket.
 */
export function check201(unreadableLogged: () => number): FrameCheck<Frame201> {
  return async (station, frame, index) => {
    const { expect } = frame;
    if (expect.reply === 'close') throw new Error('fatal frames go through the fatal lane');
    const loggedBefore = unreadableLogged();
    station.send(frame.data, frame.binary);
    if (expect.reply === 'none')
      return unansweredProblem(station, index, expect.logged, loggedBefore, unreadableLogged);
    const text = await station.next();
    if (expect.reply === 'callError') return callErrorProblem(text, expect.ids, expect.codes, expect.names);
    const answer = JSON.parse(text) as unknown[];
    if (answer[0] === 4 && expect.reply === 'callResultOrError')
      return callErrorProblem(text, [expect.id], expect.codes);
    if (answer[0] !== 3 || answer[1] !== expect.id || answer.length !== 3)
      return `answered ${text.slice(0, 300)}, expected a CALLRESULT for ${expect.id}`;
    const problems = callResultProblems(expect.call, answer);
    return problems.length > 0
      ? `answered an invalid ${String(expect.call[2])}Response: ${problems.join('; ')}`
      : undefined;
  };
}

/** Numbers in the central system's view that no meter, connector or session can have. */
export function nonsenseNumbers(what: string, value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${what} ${path}: ${value}`];
  if (value === null) return [`${what} ${path}: null`];
  if (typeof value !== 'object' || value === undefined) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    nonsenseNumbers(what, inner, path ? `${path}.${key}` : key),
  );
}

export async function allSessions(cs: CentralSystem) {
  const found = [];
  for await (const session of cs.sessions()) found.push(session);
  return found;
}

/** Well-behaved: boots, then session after session until told to stop (at least `least`). */
export async function wellBehaved(
  charger: Charger201,
  stop: () => boolean,
  least: number,
  finished: { transactionId: string; startWh: number; stopWh: number }[],
  problems: string[],
): Promise<void> {
  try {
    const boot = await charger.boot();
    if (boot.status !== 'Accepted') problems.push(`boot ${boot.status}`);
    await charger.status(1, 'Available');
    let meterWh = 1000;
    while (!stop() || finished.length < least) {
      await charger.status(1, 'Occupied');
      const startWh = meterWh;
      const { transactionId, response } = await charger.startTransaction(1, 'GOOD-201', { meterWh });
      if (response.idTokenInfo?.status !== 'Accepted')
        problems.push(`TransactionEvent Started: idTokenInfo ${JSON.stringify(response.idTokenInfo)}`);
      await charger.meterValues(transactionId, { currentA: [16, 16, 16], energyWh: meterWh + 250 });
      meterWh += 500;
      await charger.stopTransaction(transactionId, { energyWh: meterWh });
      await charger.status(1, 'Available');
      finished.push({ transactionId, startWh, stopWh: meterWh });
      await charger.heartbeat();
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
}

/** What is wrong with the answer to a named frame (ocpp201-named-frames.ts); undefined if nothing. */
export async function namedProblem(
  station: RawCharger,
  [what, frame, codes]: [string, unknown[], readonly string[]],
  odd: boolean,
): Promise<string | undefined> {
  const text = await station.ask(JSON.stringify(frame));
  const answer = JSON.parse(text) as unknown[];
  const problem = !odd
    ? callErrorProblem(text, [String(frame[1])], codes)
    : answer[0] === 4 && codes.length > 0
      ? callErrorProblem(text, [String(frame[1])], codes)
      : answer[0] !== 3 || answer[1] !== frame[1]
        ? `answered ${text.slice(0, 300)}, expected a CALLRESULT`
        : callResultProblems(JSON.parse(JSON.stringify(frame)), answer).join('; ') || undefined;
  return problem && `${what}: ${JSON.stringify(frame).slice(0, 200)}\n      ${problem}`;
}
