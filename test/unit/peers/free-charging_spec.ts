import assert from 'node:assert/strict';
import type { SessionRecord } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { type CentralSystemSettings, parseSettings } from '../../../lib/ocpp/settings';
import { EvpowerCharger } from '../../support/evpower-charger';
import { useOcppHarness } from '../../support/ocpp';
import type { PeerCharger } from '../../support/peer-charger';
import {
  controlLoop,
  describeDraws,
  lineA,
  supplyLine,
  until,
  type WatchedCharger,
  watchLine,
} from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';
import { VoltbrasCharger } from '../../support/voltbras-charger';

/**
 * Free charging (issue #12): a car park where every id tag is accepted, and chargers that present
 * one fixed tag for every car (Bender's "free charging" mode does). Five chargers of three
 * independent implementations (@voltbras/ts-ocpp, plain ws, @evpower/ocpp-ts) present the same
 * tag at once: each must be Accepted and charge. A tag the operator lists as one-at-a-time is the
 * opposite: a second charger is answered ConcurrentTx. The central system is configured through
 * the settings a person types (parseSettings), not through test defaults.
 */

const TAG = 'FREECHARGING';
const LINE_A = 40;

/** The central system's settings for a free-charging car park (and the test's own port). */
function settings(extra: CentralSystemSettings = {}) {
  return {
    ...parseSettings({
      host: '127.0.0.1',
      unknownChargePoints: 'accept',
      readConfigurationOnBoot: false,
      authorizationPolicy: 'acceptAll',
      ...extra,
    }),
    port: 0,
  };
}

/** An evpower charger as the car-park helpers watch it (it announces accepted profiles only). */
function watched(cp: EvpowerCharger): WatchedCharger {
  return {
    identity: cp.identity,
    hasConnector: (id) => cp.hasConnector(id),
    drawA: (id) => cp.drawA(id).map((a) => a ?? 0),
    offeredA: (id) => (cp.limitA(id) >= 6 ? Math.min(cp.limitA(id), 32) : 0),
    statusOf: () => 'not tracked',
    on: (_event, listener) => cp.on('profile', listener),
    off: (_event, listener) => cp.off('profile', listener),
  };
}

describe('free charging: one id tag on many chargers', () => {
  const peers: PeerCharger[] = [];
  const evpower: EvpowerCharger[] = [];
  const cleanups: (() => unknown)[] = [];
  // Before the harness's afterEach: the chargers close while the central system still answers.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all([...peers.splice(0), ...evpower.splice(0)].map((cp) => cp.close()));
  });
  const harness = useOcppHarness();

  const url = (cs: CentralSystem) => `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`;

  async function peer<C extends PeerCharger>(cs: CentralSystem, cp: C): Promise<C> {
    peers.push(cp);
    await cp.connect(url(cs));
    return cp;
  }

  function violations(): string[] {
    return peers.flatMap((cp) =>
      (cp as VoltbrasCharger | PlainCharger).violations.map((v) => `${cp.identity}: ${v}`),
    );
  }

  it('accepts the same tag on five chargers at once (no ConcurrentTx), and all five charge', async () => {
    const cs = await harness().centralSystem(settings());
    const ids = ['VOLT-A', 'VOLT-B', 'PLAIN-A', 'PLAIN-B', 'EVP-A'];
    const loop = controlLoop(cs, supplyLine(ids, LINE_A));
    cleanups.push(loop.stop);
    await peer(cs, new VoltbrasCharger('VOLT-A'));
    await peer(cs, new VoltbrasCharger('VOLT-B'));
    await peer(cs, new PlainCharger('PLAIN-A'));
    await peer(cs, new PlainCharger('PLAIN-B'));
    const evp = new EvpowerCharger('EVP-A');
    evpower.push(evp);
    await evp.connect(url(cs));
    const all = [...peers, watched(evp)];
    const watch = watchLine(all);
    cleanups.push(watch.stop);

    for (const cp of peers) {
      const outcome = await cp.startSession(1, TAG, { maxA: 32, phases: 3 });
      assert.deepEqual([outcome.authorize, outcome.start], ['Accepted', 'Accepted'], cp.identity);
    }
    // evpower-charger's answer: Authorize's status once StartTransaction was Accepted, else the start's.
    assert.equal(await evp.startSession(1, TAG, { maxA: 32, phases: 3 }), 'Accepted');

    const open = cs.openTransactions();
    assert.equal(open.length, 5);
    assert.deepEqual(open.map((tx) => tx.chargePointId).sort(), [...ids].sort());
    assert.ok(open.every((tx) => tx.idTag === TAG && tx.idTagStatus === 'Accepted'));
    assert.equal(new Set(open.map((tx) => tx.transactionId)).size, 5, 'five transactions');

    // All five get current from the load manager, and the line holds.
    await until(all, () => all.every((cp) => (cp.drawA(1)[0] ?? 0) >= 6));
    const line = lineA(all);
    assert.ok(
      line.every((a) => a <= LINE_A + 1e-9),
      `${line.join('/')} A: ${describeDraws(all)}`,
    );
    assert.ok(watch.highestA <= LINE_A + 1e-9, `at one moment ${watch.highestA} A: ${watch.at}`);
    for (const id of ids) assert.equal(cs.connectorOf(id, 1)?.transaction?.idTag, TAG);
    assert.deepEqual(loop.feedErrors, []);
    assert.deepEqual(violations(), []);
  });

  it('answers ConcurrentTx on a second charger for a tag listed one-at-a-time, while other tags charge anywhere', async () => {
    const cs = await harness().centralSystem(
      settings({ idTags: [{ idTag: 'FLEET-7', status: 'Accepted', oneAtATime: true }] }),
    );
    const volt = await peer(cs, new VoltbrasCharger('VOLT-A'));
    const plain = await peer(cs, new PlainCharger('PLAIN-A'));
    const cached = await peer(cs, new PlainCharger('PLAIN-B'));
    const car = { maxA: 16, phases: 3 } as const;

    const first = await volt.startSession(1, 'FLEET-7', car);
    assert.deepEqual([first.authorize, first.start], ['Accepted', 'Accepted']);
    // The same card at a second charger: Authorize says it is busy elsewhere; nothing starts.
    assert.deepEqual(await plain.startSession(1, 'FLEET-7', car), { authorize: 'ConcurrentTx' });
    assert.deepEqual(plain.drawA(1), [0, 0, 0]);
    // A charger that knows the card from its cache starts without asking: StartTransaction says it.
    const refused = await cached.startSession(1, 'FLEET-7', car, { cached: true });
    assert.equal(refused.start, 'ConcurrentTx');
    assert.deepEqual(cached.drawA(1), [0, 0, 0], 'a charger stops a transaction not Accepted');
    assert.deepEqual(
      cs.openTransactions().map((tx) => tx.chargePointId),
      ['VOLT-A'],
    );
    // A tag nobody listed charges anywhere, as many times as it likes (free charging).
    for (const cp of [plain, cached]) {
      const guest = await cp.startSession(1, 'GUEST', car);
      assert.deepEqual([guest.authorize, guest.start], ['Accepted', 'Accepted'], cp.identity);
    }
    await plain.stopSession(1);
    // Once the first session ends, the card may start again elsewhere.
    await volt.stopSession(1);
    const again = await plain.startSession(1, 'FLEET-7', car);
    assert.deepEqual([again.authorize, again.start], ['Accepted', 'Accepted']);

    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    const deauthorized = sessions.find((s) => s.transactionId === refused.transactionId);
    assert.equal(deauthorized?.stopReason, 'DeAuthorized');
    assert.equal(deauthorized?.energyWh, 0);
    assert.deepEqual(violations(), []);
  });
});
