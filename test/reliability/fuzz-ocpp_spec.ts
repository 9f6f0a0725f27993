import assert from 'node:assert/strict';
import type { RPCClient } from 'ocpp-rpc';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { findViolation } from '../../lib/ocpp/v16/validation';
import { OCPP201 } from '../../lib/ocpp/v201/schemas';
import { Charger201 } from '../support/charger201';
import { BOOT, type OcppHarness, useOcppHarness } from '../support/ocpp';
import {
  type FrameCheck,
  fatalLane,
  firstMismatches,
  fuzzLane,
  kindCounts,
  type LaneFrame,
  type Mismatch,
  unansweredProblem,
} from './support/fuzz-lanes';
import { type FuzzFrame, frameGenerator } from './support/ocpp-frames';
import { allSessions, check201, namedProblem, nonsenseNumbers, wellBehaved } from './support/ocpp201-checks';
import { generator201 } from './support/ocpp201-frames';
import { namedFrames } from './support/ocpp201-named-frames';
import { validRequest201 } from './support/ocpp201-requests';
import { Random, seedFor } from './support/random';
import { RawCharger } from './support/raw-socket';

/**
 * Thousands of malformed and schema-violating frames against one central system over real
 * WebSockets, from a seeded generator, for each OCPP version its chargers speak. Every frame must
 * get exactly the answer its version's OCPP-J asks for (1.6: section 4.2.3; 2.0.1: part 4,
 * sections 4.2-4.4, spelt as 2.0.1 spells it, never a 1.6 spelling such as FormationViolation or
 * OccurenceConstraintViolation), or a logged rejection where no answer is allowed; frames the
 * connection cannot survive close it as RFC 6455 says. Nothing may crash or log an error, nothing a
 * broken frame said may become a connector (or, 2.0.1, a session or connector with numbers no
 * meter has), and a well-behaved charger of the version on another connection keeps charging
 * throughout (2.0.1: test/support/charger201.ts, judged by typed-ocpp's copy of the OCA schemas).
 *
 * The expected answers follow from how each frame was broken (support/ocpp-frames.ts for 1.6,
 * support/ocpp201-frames.ts and ocpp201-violations.ts for 2.0.1), never from the central system's
 * validator. A run repeats with AMPFLOW_FUZZ_SEED (1.6) or AMPFLOW_FUZZ201_SEED (2.0.1);
 * AMPFLOW_FUZZ_FRAMES sets the count (AMPFLOW_FUZZ201_FRAMES the 2.0.1 one; short by default). The
 * 2.0.1 frames named in the brief are in support/ocpp201-named-frames.ts.
 */

const LANES = 4;
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
async function wellBehaved16(
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

/** The frames of a run, drawn up front (a seed gives the same frames however the lanes interleave). */
interface Drawn {
  frames: readonly LaneFrame[];
  fatal: readonly LaneFrame[];
  /** Sends lane `lane`'s share of the frames on `socket`, each checked as its version asks. */
  lane(
    socket: RawCharger,
    lane: number,
    mismatches: Mismatch[],
    unreadableLogged: () => number,
  ): Promise<unknown[] | undefined>;
}

function drawn<F extends LaneFrame>(
  frames: F[],
  fatal: LaneFrame[],
  check: (unreadableLogged: () => number) => FrameCheck<F>,
): Drawn {
  return {
    frames,
    fatal,
    lane: (socket, lane, mismatches, unreadableLogged) =>
      fuzzLane(socket, frames, lane, LANES, check(unreadableLogged), mismatches),
  };
}

/** The well-behaved charger on another connection, while the frames go. */
interface GoodRun {
  identity: string;
  sessions(): number;
  /** Tells it to stop after its current session, and waits for it. */
  stop(): Promise<void>;
  /** It was served throughout, and every session of its was recorded once as it happened. */
  verify(cs: CentralSystem): Promise<void>;
}

/** What differs between the versions; everything else is one test. */
interface Version {
  title: string;
  /** As the assertions name it. */
  asks: string;
  seed: number;
  frames: number;
  fatalFrames: number;
  itTitle: string;
  /** The sub-protocol its chargers offer, and how the fuzzing connections are named. */
  protocol: string;
  lanePrefix: string;
  fatalPrefix: string;
  draw(): Drawn;
  good(cs: CentralSystem, harness: OcppHarness, opened: { close(): Promise<void> }[]): Promise<GoodRun>;
  /** What else no broken frame may leave behind. */
  kept?(cs: CentralSystem): Promise<void>;
}

const SEED16 = seedFor('FUZZ', 20261122);
const FRAMES16 = Number(process.env.AMPFLOW_FUZZ_FRAMES ?? 4000);
const FATAL16 = 40;
const SEED201 = seedFor('FUZZ201', 20270201);
const FRAMES201 = Number(process.env.AMPFLOW_FUZZ201_FRAMES ?? process.env.AMPFLOW_FUZZ_FRAMES ?? 1000);
const FATAL201 = 8;

const VERSIONS: Version[] = [
  {
    title: 'fuzzing the central system with malformed OCPP-J frames',
    asks: 'OCPP-J 1.6',
    seed: SEED16,
    frames: FRAMES16,
    fatalFrames: FATAL16,
    itTitle: `answers ${FRAMES16} broken frames as OCPP-J 1.6 asks (seed ${SEED16}), closes ${FATAL16} connections that must close, and a charger on another connection charges on`,
    protocol: 'ocpp1.6',
    lanePrefix: 'FUZZ-',
    fatalPrefix: 'FATAL-',
    draw() {
      const generator = frameGenerator(new Random(SEED16));
      const frames = Array.from({ length: FRAMES16 }, (_, index) => generator.survivable(index));
      const fatal = Array.from({ length: FATAL16 }, (_, index) => generator.fatal(index, MAX_FRAME_BYTES));
      return drawn<FuzzFrame>(frames, fatal, check16);
    },
    async good(cs, harness) {
      const { client } = await harness.bootedCharger(cs, 'GOOD-1');
      let going = true;
      const finished: number[] = [];
      const problems: string[] = [];
      const run = wellBehaved16(client, () => !going, finished, problems);
      return {
        identity: 'GOOD-1',
        sessions: () => finished.length,
        stop: async () => {
          going = false;
          await run;
        },
        async verify(cs) {
          assert.deepEqual(problems, [], 'the well-behaved charger was served throughout');
          assert.ok(finished.length >= 5, `only ${finished.length} sessions of the well-behaved charger`);
          assert.deepEqual(
            (await allSessions(cs))
              .filter((s) => s.chargePointId === 'GOOD-1')
              .map((s) => [s.transactionId, s.anomaly]),
            finished.map((id) => [id, undefined]),
            'every session of the well-behaved charger recorded once, without anomaly',
          );
        },
      };
    },
  },
  {
    title: 'fuzzing the central system with malformed OCPP-J 2.0.1 frames',
    asks: 'OCPP-J 2.0.1',
    seed: SEED201,
    frames: FRAMES201,
    fatalFrames: FATAL201,
    itTitle: `answers ${FRAMES201} broken 2.0.1 frames as OCPP-J 2.0.1 asks (seed ${SEED201}), closes ${FATAL201} connections that must close, and a 2.0.1 charger on another connection charges on`,
    protocol: OCPP201,
    lanePrefix: 'FUZZ201-',
    fatalPrefix: 'FATAL201-',
    draw() {
      const generator = generator201(new Random(SEED201));
      const frames = Array.from({ length: FRAMES201 }, (_, index) => generator.survivable(index));
      // The frames a connection cannot survive are the same for every version (RFC 6455).
      const fatalFrames = frameGenerator(new Random(SEED201 + 1));
      const fatal = Array.from({ length: FATAL201 }, (_, index) => fatalFrames.fatal(index, MAX_FRAME_BYTES));
      return drawn(frames, fatal, check201);
    },
    async good(cs, _harness, opened) {
      const good = new Charger201({ url: `ws://127.0.0.1:${cs.port}/`, identity: 'GOOD-201' });
      opened.push(good);
      await good.connect();
      assert.equal(good.protocol, 'ocpp2.0.1');
      let going = true;
      const finished: { transactionId: string; startWh: number; stopWh: number }[] = [];
      const problems: string[] = [];
      const run = wellBehaved(good, () => !going, 3, finished, problems);
      return {
        identity: 'GOOD-201',
        sessions: () => finished.length,
        stop: async () => {
          going = false;
          await run;
        },
        async verify(cs) {
          assert.deepEqual(problems, [], 'the well-behaved 2.0.1 charger was served throughout');
          assert.deepEqual(
            good.violations,
            [],
            'nothing the central system sent the 2.0.1 charger broke OCPP-J 2.0.1',
          );
          assert.ok(finished.length >= 3, `only ${finished.length} sessions of the well-behaved charger`);
          assert.deepEqual(
            (await allSessions(cs))
              .filter((s) => s.chargePointId === 'GOOD-201')
              .map((s) => [
                s.chargerTransactionId,
                s.idTag,
                s.meterStartWh,
                s.meterStopWh,
                s.energyWh,
                s.anomaly,
              ]),
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
        },
      };
    },
    async kept(cs) {
      const sessions = await allSessions(cs);
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
    },
  },
];

for (const v of VERSIONS) {
  describe(v.title, function () {
    this.timeout(120_000);
    const harness = useOcppHarness();
    const opened: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((socket) => socket.close()));
    });

    async function open(cs: CentralSystem, identity: string, protocol: string): Promise<RawCharger> {
      const socket = await RawCharger.open(`ws://127.0.0.1:${cs.port}/`, identity, protocol);
      opened.push(socket);
      return socket;
    }

    const internalErrors = () =>
      harness()
        .log.matching(/./, 'error')
        .map((line) => line.message);

    it(v.itTitle, async () => {
      const cs = await harness().centralSystem({ maxFrameBytes: MAX_FRAME_BYTES });
      const { frames, fatal, lane: sendLane } = v.draw();
      const good = await v.good(cs, harness(), opened);

      const mismatches: Mismatch[] = [];
      const startedAt = Date.now();
      const lanes = Array.from({ length: LANES }, async (_, lane) => {
        const identity = `${v.lanePrefix}${lane}`;
        const socket = await open(cs, identity, v.protocol);
        const unreadable = new RegExp(`^charge point ${identity}: unreadable frame`);
        const unreadableLogged = () => harness().log.matching(unreadable, 'warn').length;
        const last = await sendLane(socket, lane, mismatches, unreadableLogged);
        if (last) assert.deepEqual(last.slice(0, 2), [3, 'last'], `${identity} is still answered`);
      });
      await Promise.all([
        ...lanes,
        fatalLane((index) => open(cs, `${v.fatalPrefix}${index}`, v.protocol), fatal, mismatches),
      ]);
      const fuzzMs = Date.now() - startedAt;
      await good.stop();

      if (process.env.AMPFLOW_TEST_VERBOSE || mismatches.length > 0) {
        console.log(
          `    seed ${v.seed}: ${v.frames} frames + ${v.fatalFrames} fatal in ${fuzzMs} ms; ${good.sessions()} good sessions meanwhile`,
        );
        console.log('    kinds:', kindCounts(frames));
      }
      assert.deepEqual(
        firstMismatches(mismatches),
        [],
        `seed ${v.seed}: ${mismatches.length} frames were not answered as ${v.asks} asks`,
      );
      await good.verify(cs);
      assert.ok(cs.isConnected(good.identity));

      // Nothing crashed, and nothing a broken frame said became a connector of its own.
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
      await v.kept?.(cs);
    });

    if (v.protocol === OCPP201) {
      it('answers the frames named in the brief one by one: 1.6 actions, nonsense transactions, absurd multipliers', async () => {
        const cs = await harness().centralSystem();
        const station = await open(cs, 'NAMED-201', OCPP201);
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
    }
  });
}
