import assert from 'node:assert/strict';
import type { RPCClient } from 'ocpp-rpc';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { findViolation } from '../../lib/ocpp/v16/validation';
import { BOOT, useOcppHarness } from '../support/ocpp';
import {
  type FrameCheck,
  fatalLane,
  firstMismatches,
  fuzzLane,
  kindCounts,
  type Mismatch,
  unansweredProblem,
} from './support/fuzz-lanes';
import { type FuzzFrame, frameGenerator } from './support/ocpp-frames';
import { Random, seedFor } from './support/random';
import { RawCharger } from './support/raw-socket';

/**
 * Thousands of malformed and schema-violating frames against one central system over real
 * WebSockets, from a seeded generator (AMPFLOW_FUZZ_SEED repeats a run, AMPFLOW_FUZZ_FRAMES sets
 * the count). Every frame must get exactly the answer OCPP-J 1.6 section 4.2.3 asks for (the code
 * follows from how the frame was broken, see support/ocpp-frames.ts), or a logged rejection where
 * no answer is allowed; nothing may crash, and a well-behaved charger on another connection keeps
 * charging throughout.
 */

const SEED = seedFor('FUZZ', 20261122);
const FRAMES = Number(process.env.AMPFLOW_FUZZ_FRAMES ?? 4000);
const LANES = 4;
const FATAL_FRAMES = 40;
const MAX_FRAME_BYTES = 32 * 1024;

/** The 1.6 check of a fuzz frame's answer (fuzz-lanes.ts): exactly what OCPP-J 1.6 section 4.2.3 asks. */
function check16(unreadableLogged: () => number): FrameCheck<FuzzFrame> {
  return async (charger, frame, index) => {
    const { expect } = frame;
    if (expect.reply === 'close') throw new Error('fatal frames go through the fatal lane');
    const loggedBefore = unreadableLogged();
    charger.send(frame.data, frame.binary);
    if (expect.reply === 'none')
      return unansweredProblem(charger, index, expect.logged, loggedBefore, unreadableLogged);
    const text = await charger.next();
    const answer = JSON.parse(text) as unknown[];
    if (expect.reply === 'callResult') {
      if (answer[0] !== 3 || answer[1] !== expect.id || answer.length !== 3)
        return `answered ${text}, expected a CALLRESULT for ${expect.id}`;
      const invalid = findViolation(expect.action, 'response', answer[2]);
      return invalid ? `answered an invalid ${expect.action}.conf: ${invalid.summary}` : undefined;
    }
    const [type, id, code, description, details] = answer;
    if (type !== 4 || answer.length !== 5 || typeof description !== 'string' || typeof details !== 'object')
      return `answered ${text}, not a CALLERROR [4, id, code, description, details]`;
    if (id !== expect.id || code !== expect.code)
      return `answered ${JSON.stringify([type, id, code, description])}, expected [4, ${JSON.stringify(expect.id)}, ${expect.code}]`;
    if (expect.names && !description.includes(expect.names))
      return `the description ${JSON.stringify(description)} does not name ${JSON.stringify(expect.names)}`;
    return undefined;
  };
}

/**
 * A charger that behaves: boots, then runs session after session (Authorize, StartTransaction,
 * MeterValues, StopTransaction, Heartbeat) until told to stop; every answer must be right.
 */
async function wellBehaved(
  client: RPCClient,
  stop: () => boolean,
  finished: number[],
  problems: string[],
): Promise<void> {
  const boot = (await client.call('BootNotification', BOOT)) as { status: string };
  if (boot.status !== 'Accepted') problems.push(`boot ${boot.status}`);
  let meterWh = 0;
  while (!stop()) {
    try {
      const now = () => new Date().toISOString();
      const auth = (await client.call('Authorize', { idTag: 'GOOD' })) as { idTagInfo: { status: string } };
      if (auth.idTagInfo.status !== 'Accepted') problems.push(`Authorize ${auth.idTagInfo.status}`);
      const start = (await client.call('StartTransaction', {
        connectorId: 1,
        idTag: 'GOOD',
        meterStart: meterWh,
        timestamp: now(),
      })) as { transactionId: number; idTagInfo: { status: string } };
      if (start.idTagInfo.status !== 'Accepted') problems.push(`StartTransaction ${start.idTagInfo.status}`);
      meterWh += 500;
      await client.call('MeterValues', {
        connectorId: 1,
        transactionId: start.transactionId,
        meterValue: [{ timestamp: now(), sampledValue: [{ value: String(meterWh), unit: 'Wh' }] }],
      });
      await client.call('StopTransaction', {
        transactionId: start.transactionId,
        meterStop: meterWh,
        timestamp: now(),
        reason: 'Local',
      });
      finished.push(start.transactionId);
      await client.call('Heartbeat', {});
    } catch (err) {
      problems.push((err as Error).message);
      return;
    }
  }
}

async function sessionsOf(cs: CentralSystem, chargePointId: string) {
  const found = [];
  for await (const session of cs.sessions()) if (session.chargePointId === chargePointId) found.push(session);
  return found;
}

describe('fuzzing the central system with malformed OCPP-J frames', function () {
  this.timeout(120_000);
  const harness = useOcppHarness();
  const opened: RawCharger[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((charger) => charger.close()));
  });

  it(`answers ${FRAMES} broken frames as OCPP-J 1.6 asks (seed ${SEED}), closes ${FATAL_FRAMES} connections that must close, and a charger on another connection charges on`, async () => {
    const cs = await harness().centralSystem({ maxFrameBytes: MAX_FRAME_BYTES });
    const url = `ws://127.0.0.1:${cs.port}/`;
    const generator = frameGenerator(new Random(SEED));
    // Drawn up front, so a seed gives the same frames however the lanes interleave.
    const frames = Array.from({ length: FRAMES }, (_, index) => generator.survivable(index));
    const fatal = Array.from({ length: FATAL_FRAMES }, (_, index) => generator.fatal(index, MAX_FRAME_BYTES));

    const { client: good } = await harness().bootedCharger(cs, 'GOOD-1');
    let fuzzing = true;
    const finished: number[] = [];
    const goodProblems: string[] = [];
    const goodRun = wellBehaved(good, () => !fuzzing, finished, goodProblems);

    const mismatches: Mismatch[] = [];
    const startedAt = Date.now();
    const lanes = Array.from({ length: LANES }, async (_, lane) => {
      const identity = `FUZZ-${lane}`;
      const charger = await RawCharger.open(url, identity);
      opened.push(charger);
      const unreadable = new RegExp(`^charge point ${identity}: unreadable frame`);
      const unreadableLogged = () => harness().log.matching(unreadable, 'warn').length;
      const last = await fuzzLane(charger, frames, lane, LANES, check16(unreadableLogged), mismatches);
      if (last) assert.deepEqual(last.slice(0, 2), [3, 'last'], `${identity} is still answered`);
    });
    const fatal16 = fatalLane(
      async (index) => {
        const charger = await RawCharger.open(url, `FATAL-${index}`);
        opened.push(charger);
        return charger;
      },
      fatal,
      mismatches,
    );
    await Promise.all([...lanes, fatal16]);
    const fuzzMs = Date.now() - startedAt;
    fuzzing = false;
    await goodRun;

    if (process.env.AMPFLOW_TEST_VERBOSE || mismatches.length > 0) {
      console.log(
        `    seed ${SEED}: ${FRAMES} frames + ${FATAL_FRAMES} fatal in ${fuzzMs} ms; ${finished.length} good sessions meanwhile`,
      );
      console.log('    kinds:', kindCounts(frames));
    }
    assert.deepEqual(
      firstMismatches(mismatches),
      [],
      `seed ${SEED}: ${mismatches.length} frames were not answered as OCPP-J 1.6 asks`,
    );
    assert.deepEqual(goodProblems, [], 'the well-behaved charger was served throughout');
    assert.ok(finished.length >= 5, `only ${finished.length} sessions of the well-behaved charger`);
    assert.deepEqual(
      (await sessionsOf(cs, 'GOOD-1')).map((s) => [s.transactionId, s.anomaly]),
      finished.map((id) => [id, undefined]),
      'every session of the well-behaved charger recorded once, without anomaly',
    );
    assert.equal(cs.state, 'listening');
    assert.deepEqual(
      harness()
        .log.matching(/./, 'error')
        .map((line) => line.message),
      [],
      'no internal errors',
    );
    assert.ok(cs.isConnected('GOOD-1'));
    // Nothing a broken frame said became a transaction or a connector of its own.
    assert.deepEqual(
      cs.connectors
        .all()
        .filter((state) => !(state.connectorId >= 0 && Number.isSafeInteger(state.connectorId))),
      [],
    );
  });
});
