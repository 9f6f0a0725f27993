import assert from 'node:assert/strict';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { OCPP201 } from '../../lib/ocpp/v201/schemas';
import { Charger201 } from '../support/charger201';
import { useOcppHarness } from '../support/ocpp';
import { fatalLane, firstMismatches, fuzzLane, kindCounts, type Mismatch } from './support/fuzz-lanes';
import { frameGenerator } from './support/ocpp-frames';
import { allSessions, check201, namedProblem, nonsenseNumbers, wellBehaved } from './support/ocpp201-checks';
import { generator201 } from './support/ocpp201-frames';
import { namedFrames } from './support/ocpp201-named-frames';
import { validRequest201 } from './support/ocpp201-requests';
import { Random, seedFor } from './support/random';
import { RawCharger } from './support/raw-socket';

/**
 * The OCPP 2.0.1 side of fuzz-ocpp_spec.ts: malformed and schema-violating frames from a seeded
 * generator over `ocpp2.0.1` WebSockets (AMPFLOW_FUZZ201_SEED repeats a run; AMPFLOW_FUZZ201_FRAMES,
 * or AMPFLOW_FUZZ_FRAMES, sets the count, short by default). Every frame must get the answer
 * OCPP-J 2.0.1 (part 4, sections 4.2-4.4) asks for, spelt as 2.0.1 spells it, never a 1.6
 * spelling (FormationViolation, OccurenceConstraintViolation); frames the connection cannot survive
 * close it as RFC 6455 says. Nothing may crash or log an error, nothing a broken frame said may
 * become a connector or a session with numbers no meter has, and a well-behaved 2.0.1 charger
 * (test/support/charger201.ts, judged by typed-ocpp's copy of the OCA schemas) on another
 * connection charges session after session meanwhile.
 *
 * The expected answers follow from how each frame was broken (support/ocpp201-frames.ts and
 * ocpp201-violations.ts), never from the central system's validator; the frames named in the brief
 * are in support/ocpp201-named-frames.ts.
 */

const SEED = seedFor('FUZZ201', 20270201);
const FRAMES = Number(process.env.AMPFLOW_FUZZ201_FRAMES ?? process.env.AMPFLOW_FUZZ_FRAMES ?? 1000);
const LANES = 4;
const FATAL_FRAMES = 8;
const MAX_FRAME_BYTES = 32 * 1024;

describe('fuzzing the central system with malformed OCPP-J 2.0.1 frames', function () {
  this.timeout(120_000);
  const harness = useOcppHarness();
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((socket) => socket.close()));
  });

  async function open(cs: CentralSystem, identity: string): Promise<RawCharger> {
    const station = await RawCharger.open(`ws://127.0.0.1:${cs.port}/`, identity, OCPP201);
    opened.push(station);
    return station;
  }

  const internalErrors = () =>
    harness()
      .log.matching(/./, 'error')
      .map((line) => line.message);

  it(`answers ${FRAMES} broken 2.0.1 frames as OCPP-J 2.0.1 asks (seed ${SEED}), closes ${FATAL_FRAMES} connections that must close, and a 2.0.1 charger on another connection charges on`, async () => {
    const cs = await harness().centralSystem({ maxFrameBytes: MAX_FRAME_BYTES });
    const generator = generator201(new Random(SEED));
    // Drawn up front, so a seed gives the same frames however the lanes interleave.
    const frames = Array.from({ length: FRAMES }, (_, index) => generator.survivable(index));
    // The frames a connection cannot survive are the same for every version (RFC 6455).
    const fatalFrames = frameGenerator(new Random(SEED + 1));
    const fatal = Array.from({ length: FATAL_FRAMES }, (_, index) =>
      fatalFrames.fatal(index, MAX_FRAME_BYTES),
    );

    const good = new Charger201({ url: `ws://127.0.0.1:${cs.port}/`, identity: 'GOOD-201' });
    opened.push(good);
    await good.connect();
    assert.equal(good.protocol, 'ocpp2.0.1');
    let fuzzing = true;
    const finished: { transactionId: string; startWh: number; stopWh: number }[] = [];
    const goodProblems: string[] = [];
    const goodRun = wellBehaved(good, () => !fuzzing, 3, finished, goodProblems);

    const mismatches: Mismatch[] = [];
    const startedAt = Date.now();
    const lanes = Array.from({ length: LANES }, async (_, lane) => {
      const identity = `FUZZ201-${lane}`;
      const station = await open(cs, identity);
      const unreadable = new RegExp(`^charge point ${identity}: unreadable frame`);
      const unreadableLogged = () => harness().log.matching(unreadable, 'warn').length;
      const last = await fuzzLane(station, frames, lane, LANES, check201(unreadableLogged), mismatches);
      if (last) assert.deepEqual(last.slice(0, 2), [3, 'last'], `${identity} is still answered`);
    });
    await Promise.all([...lanes, fatalLane((index) => open(cs, `FATAL201-${index}`), fatal, mismatches)]);
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
      `seed ${SEED}: ${mismatches.length} frames were not answered as OCPP-J 2.0.1 asks`,
    );

    // The well-behaved charger: served throughout, every session recorded once as it happened.
    assert.deepEqual(goodProblems, [], 'the well-behaved 2.0.1 charger was served throughout');
    assert.deepEqual(
      good.violations,
      [],
      'nothing the central system sent the 2.0.1 charger broke OCPP-J 2.0.1',
    );
    assert.ok(finished.length >= 3, `only ${finished.length} sessions of the well-behaved charger`);
    const sessions = await allSessions(cs);
    assert.deepEqual(
      sessions
        .filter((s) => s.chargePointId === 'GOOD-201')
        .map((s) => [s.chargerTransactionId, s.idTag, s.meterStartWh, s.meterStopWh, s.energyWh, s.anomaly]),
      finished.map((tx) => [
        tx.transactionId,
        'GOOD-201',
        tx.startWh,
        tx.stopWh,
        tx.stopWh - tx.startWh,
        undefined,
      ]),
      'every session of the well-behaved charger recorded once, with its energy, without anomaly',
    );
    assert.ok(cs.isConnected('GOOD-201'));

    // Nothing crashed, and nothing a broken frame said became a number no meter or connector has.
    assert.equal(cs.state, 'listening');
    assert.deepEqual(internalErrors(), [], 'no internal errors');
    assert.deepEqual(
      cs.connectors
        .all()
        .filter((state) => !(state.connectorId >= 0 && Number.isSafeInteger(state.connectorId)))
        .map((state) => `${state.chargePointId} connector ${state.connectorId}`),
      [],
      'no connector with an id no EVSE has',
    );
    assert.deepEqual(
      [
        ...cs.connectors
          .all()
          .flatMap((state) =>
            nonsenseNumbers(`${state.chargePointId} connector ${state.connectorId}`, state),
          ),
        ...sessions.flatMap((s) =>
          nonsenseNumbers(`${s.chargePointId} session ${s.chargerTransactionId ?? s.transactionId}`, s),
        ),
      ].slice(0, 12),
      [],
      'no connector or session holds a number that is not finite',
    );
  });

  it('answers the frames named in the brief one by one: 1.6 actions, nonsense transactions, absurd multipliers', async () => {
    const cs = await harness().centralSystem();
    const station = await open(cs, 'NAMED-201');
    const now = new Date().toISOString();
    const boot = JSON.parse(
      await station.ask(
        JSON.stringify([2, 'boot', 'BootNotification', validRequest201('BootNotification', now)]),
      ),
    ) as unknown[];
    assert.equal((boot[2] as { status?: string }).status, 'Accepted');
    const { errors, odd } = namedFrames(now);
    const problems: string[] = [];
    for (const named of errors) {
      const problem = await namedProblem(station, named, false);
      if (problem) problems.push(problem);
    }
    // Valid by the schema, odd: answered, and recorded as well as it can be (no number no meter has).
    for (const named of odd) {
      const problem = await namedProblem(station, named, true);
      if (problem) problems.push(problem);
    }
    const sessions = (await allSessions(cs)).filter((s) => s.chargePointId === 'NAMED-201');
    const state = [
      ...cs.connectors
        .all()
        .filter((c) => c.chargePointId === 'NAMED-201')
        .flatMap((c) => [
          ...(c.connectorId >= 0 && Number.isSafeInteger(c.connectorId)
            ? []
            : [`connector ${c.connectorId} exists`]),
          ...nonsenseNumbers(`connector ${c.connectorId}`, c),
        ]),
      ...sessions.flatMap((s) => nonsenseNumbers(`session ${JSON.stringify(s.chargerTransactionId)}`, s)),
    ];
    assert.deepEqual([...problems, ...state], [], 'answered as OCPP-J 2.0.1 asks, and no nonsense kept');
    assert.deepEqual(internalErrors(), [], 'no internal errors');
    const last = JSON.parse(await station.ask(JSON.stringify([2, 'last', 'Heartbeat', {}]))) as unknown[];
    assert.deepEqual(last.slice(0, 2), [3, 'last'], 'still served');
  });
});
