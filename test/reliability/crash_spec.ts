import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import type { SessionRecord } from '../../lib/ocpp/central-state';
import { CentralSystem } from '../../lib/ocpp/central-system';
import { rpcChargePoint } from '../support/charge-point';
import { BOOT, RecordingLogger } from '../support/ocpp';
import { freePort } from '../support/ports';
import { type RunningProcess, run } from '../support/process';
import { Random, seedFor } from './support/random';

/**
 * The central system is killed with SIGKILL at random points while chargers start and stop
 * transactions, 50 times (two data directories, 25 kills each, side by side). The chargers keep
 * every StartTransaction / StopTransaction the central system acknowledged and, like real chargers
 * (OCPP 1.6 section 3.7), send a message whose answer they never got again after the restart.
 * After each kill the durable state is opened again and must hold every acknowledged transaction
 * and session, each session once, with no transaction id issued twice and ids still increasing
 * across the restart. AMPFLOW_CRASH_SEED repeats a run.
 */

const childFile = join(__dirname, 'support/cs-crash-child.ts');
const SEED = seedFor('CRASH', 20261122);
const KILLS_PER_LANE = Number(process.env.AMPFLOW_CRASH_KILLS ?? 25);
const CHARGERS = 6;

interface Charger {
  id: string;
  meterWh: number;
  starts: number;
  /** The transaction the charger has running (its StartTransaction was acknowledged). */
  open?: number;
  /** A message sent but not answered: sent again, unchanged, after the restart. */
  pending?: { action: 'StartTransaction' | 'StopTransaction'; payload: Record<string, unknown> };
}

interface Acknowledged {
  /** transaction id → the start it was issued for (`charger/timestamp`). */
  starts: Map<number, string>;
  stops: Set<number>;
  problems: string[];
}

function nextMessage(charger: Charger): NonNullable<Charger['pending']> {
  if (charger.open !== undefined) {
    charger.meterWh += 100 + charger.starts;
    return {
      action: 'StopTransaction',
      payload: {
        transactionId: charger.open,
        meterStop: charger.meterWh,
        timestamp: new Date().toISOString(),
        reason: 'Local',
      },
    };
  }
  charger.starts += 1;
  // A timestamp of its own per start, so a start sent again is recognisable as the same one.
  const timestamp = new Date(Date.UTC(2026, 0, 1) + charger.starts * 60_000).toISOString();
  return {
    action: 'StartTransaction',
    payload: { connectorId: 1, idTag: `TAG-${charger.id}`, meterStart: charger.meterWh, timestamp },
  };
}

/** One life of the central system: chargers run until it is killed after `killAfterCalls` calls. */
async function liveAndDie(
  url: string,
  child: RunningProcess,
  chargers: Charger[],
  acked: Acknowledged,
  random: Random,
  issuedBefore: number,
): Promise<void> {
  const clients: RPCClient[] = [];
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    child.child.kill('SIGKILL');
  };
  const killAfterCalls = random.int(1, 60);
  const howToKill = random.pick(['now', 'soon', 'later'] as const);
  let calls = 0;
  try {
    await Promise.all(
      chargers.map(async (charger) => {
        const client = rpcChargePoint(url, charger.id, { callTimeoutMs: 10_000 });
        clients.push(client);
        await client.connect();
        await client.call('BootNotification', BOOT);
      }),
    );
    await Promise.all(
      chargers.map(async (charger, index) => {
        const client = clients[index] as RPCClient;
        // A start still pending from the last life may have been recorded (and its id issued)
        // before the kill took its answer away: sent again, it rightly gets that earlier id back,
        // which may be below ids other chargers had acknowledged meanwhile.
        let resent = charger.pending?.action === 'StartTransaction';
        while (!killed) {
          charger.pending ??= nextMessage(charger);
          const { action, payload } = charger.pending;
          calls += 1;
          if (calls >= killAfterCalls) {
            // The kill lands before the call is read, while it is handled, or after its answer.
            if (howToKill === 'now') kill();
            else if (howToKill === 'soon') setImmediate(kill);
            else setTimeout(kill, random.int(0, 5));
          }
          let answer: { transactionId?: number };
          try {
            answer = (await client.call(action, payload)) as { transactionId?: number };
          } catch {
            return; // the central system died: the message stays pending
          }
          charger.pending = undefined;
          const wasResent = resent;
          resent = false;
          if (action === 'StartTransaction') {
            const id = answer.transactionId as number;
            const start = `${charger.id}/${String(payload.timestamp)}`;
            const earlier = acked.starts.get(id);
            if (earlier !== undefined && earlier !== start)
              acked.problems.push(`transaction id ${id} issued for ${earlier} and again for ${start}`);
            if (earlier === undefined && id <= issuedBefore && !wasResent)
              acked.problems.push(`transaction id ${id} issued after a restart, not above ${issuedBefore}`);
            acked.starts.set(id, start);
            charger.open = id;
          } else {
            acked.stops.add(payload.transactionId as number);
            charger.open = undefined;
          }
        }
      }),
    );
  } finally {
    kill();
    await child.exited;
    await Promise.all(clients.map((client) => client.close({ force: true }).catch(() => undefined)));
  }
}

/** Opens the durable state as the central system does after the crash and checks it. */
async function verify(dataDirectory: string, acked: Acknowledged, context: string): Promise<void> {
  const log = new RecordingLogger();
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    dataDirectory,
    log,
    unknownChargePoints: 'accept',
  });
  await cs.start();
  try {
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    const open = cs.openTransactions();
    const recorded = new Map<number, number>();
    for (const session of sessions)
      recorded.set(session.transactionId, (recorded.get(session.transactionId) ?? 0) + 1);
    const twice = [...recorded].filter(([, times]) => times > 1).map(([id]) => id);
    assert.deepEqual(twice, [], `${context}: sessions recorded more than once`);
    const openIds = new Set(open.map((tx) => tx.transactionId));
    assert.equal(openIds.size, open.length, `${context}: a transaction open twice`);
    for (const id of openIds)
      assert.ok(!recorded.has(id), `${context}: transaction ${id} is both open and finished`);
    for (const id of acked.stops)
      assert.ok(recorded.has(id), `${context}: acknowledged StopTransaction ${id} lost`);
    for (const id of acked.starts.keys())
      assert.ok(openIds.has(id) || recorded.has(id), `${context}: acknowledged StartTransaction ${id} lost`);
    for (const session of sessions) {
      assert.equal(
        session.anomaly,
        undefined,
        `${context}: session ${session.transactionId}: ${session.anomaly}`,
      );
      assert.equal(
        typeof session.meterStartWh,
        'number',
        `${context}: session ${session.transactionId} without its start`,
      );
      assert.equal(session.energyWh, session.meterStopWh - (session.meterStartWh as number), context);
    }
    assert.deepEqual(acked.problems, [], context);
    assert.deepEqual(
      log.matching(/./, 'error').map((line) => line.message),
      [],
      `${context}: errors on opening`,
    );
  } finally {
    await cs.stop();
  }
}

describe('the central system under SIGKILL', function () {
  this.timeout(240_000);
  const directories: string[] = [];
  after(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  it(`loses no acknowledged transaction and issues no id twice over ${2 * KILLS_PER_LANE} kills (seed ${SEED})`, async () => {
    let failed = false;
    const lane = async (name: string, seed: number) => {
      const random = new Random(seed);
      const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-cs-crash-'));
      directories.push(dataDirectory);
      const port = await freePort();
      const url = `ws://127.0.0.1:${port}/`;
      const chargers: Charger[] = Array.from({ length: CHARGERS }, (_, index) => ({
        id: `${name}-CP-${index + 1}`,
        meterWh: 1000 * index,
        starts: 0,
      }));
      const acked: Acknowledged = { starts: new Map(), stops: new Set(), problems: [] };
      for (let kill = 1; kill <= KILLS_PER_LANE && !failed; kill++) {
        const child = run(process.execPath, ['--require', 'tsx/cjs', childFile, dataDirectory, String(port)]);
        try {
          await child.waitForLine(/^listening /, 30_000);
        } catch (error) {
          await child.stop('SIGKILL');
          throw error;
        }
        const issuedBefore = Math.max(0, ...acked.starts.keys());
        await liveAndDie(url, child, chargers, acked, random, issuedBefore);
        const bad = child.lines.filter((line) => /^(error|failed) /.test(line));
        assert.deepEqual(bad, [], `seed ${seed}, ${name} kill ${kill}: the central system reported`);
        await verify(dataDirectory, acked, `seed ${seed}, ${name} kill ${kill}`);
      }
      return { starts: acked.starts.size, stops: acked.stops.size };
    };
    const results = await Promise.all(
      [lane('A', SEED), lane('B', SEED + 1)].map((running) =>
        running.catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const starts = results.reduce((sum, result) => sum + result.starts, 0);
    const stops = results.reduce((sum, result) => sum + result.stops, 0);
    if (process.env.AMPFLOW_TEST_VERBOSE) console.log(`    ${starts} acknowledged starts, ${stops} stops`);
    assert.ok(starts > 2 * KILLS_PER_LANE, `only ${starts} acknowledged starts`);
    assert.ok(stops > KILLS_PER_LANE, `only ${stops} acknowledged stops`);
  });
});
