import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { ChargePointMessage, ConnectorState } from '../../../lib/contracts';
import type { CentralSystem, CentralSystemOptions } from '../../../lib/ocpp/central-system';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { ChargingProfileManager } from '../../../lib/profiles';
import { until } from '../../support/events';
import { EvpowerCharger, type EvpowerChargerOptions } from '../../support/evpower-charger';
import { useOcppHarness } from '../../support/ocpp';
import { setPoint } from './support';

/**
 * Refusals the protocol explains are no evidence against a way (OCPP 1.6 §3.13.2, §5.16, §5.18):
 * a strict charger rejects a TxProfile for a transaction whose StartTransaction answer it has not
 * read yet, and one for a transaction it is stopping because its id tag was not Accepted
 * (ConcurrentTx, Invalid, ...). The manager must not learn from those that TxProfile fails (and
 * switch to a ChargePointMaxProfile, remove the offline fallback, keep that in the record); the
 * limit goes again once the charger knows the transaction, or as an idle limit once it ended.
 */

interface Rig {
  cs: CentralSystem;
  cp: EvpowerCharger;
  manager: ChargingProfileManager;
  clock: ManualClock;
  lines: () => string[];
  profiles: SetChargingProfileRequest[];
}

describe('Profiles: refusals the protocol explains', () => {
  const harness = useOcppHarness();
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function rig(
    connectors: number,
    cs: Partial<CentralSystemOptions> = {},
    charger: EvpowerChargerOptions = {},
  ): Promise<Rig> {
    const h = harness();
    const central = await h.centralSystem(cs);
    const clock = new ManualClock(Date.now());
    const manager = new ChargingProfileManager(central, {
      clock,
      log: h.log,
      configureSampling: false,
      increaseIntervalMs: 0,
    });
    closers.push(() => manager.close());
    const profiles: SetChargingProfileRequest[] = [];
    central.on('command', (event: { action: string; request: unknown }) => {
      if (event.action === 'SetChargingProfile') profiles.push(event.request as SetChargingProfileRequest);
    });
    const cp = new EvpowerCharger('CP1', connectors, { strict: true, ...charger });
    closers.push(() => cp.close());
    await cp.connect(`ws://127.0.0.1:${central.port}${central.pathPrefix}`);
    return {
      cs: central,
      cp,
      manager,
      clock,
      lines: () => h.log.lines.map((line) => line.message),
      profiles,
    };
  }

  /** Waits until `done` holds, woken by what the charger accepts or rejects; then the manager settles. */
  async function settle(r: Rig, done: () => boolean, what: string): Promise<void> {
    await until(
      done,
      [
        [r.cp, 'change'],
        [r.cp, 'rejected'],
      ],
      5000,
      () => what,
    );
    await r.manager.whenSettled('CP1');
  }

  /** What must not have happened: TxProfile learned as failing, the offline fallback dropped for it. */
  function assertNothingLearned(r: Rig): void {
    const state = r.manager.charger('CP1');
    assert.deepEqual(state?.memory.refused, {}, 'no way is remembered as refused');
    assert.ok(
      !r.profiles.some((p) => p.csChargingProfiles.chargingProfilePurpose === 'ChargePointMaxProfile'),
      'no ChargePointMaxProfile was sent',
    );
    assert.deepEqual(
      r.lines().filter((line) => /used from now on|no offline fallback installed/.test(line)),
      [],
    );
    const facts = r.cs.storedData('CP1', 'profiles') as { memory?: { refused?: object } } | undefined;
    assert.deepEqual(facts?.memory?.refused ?? {}, {}, 'nothing refused in the charger’s record');
  }

  it('sends a TxProfile again once the charger was answered its StartTransaction, learning nothing from the refusal', async () => {
    const r = await rig(1);
    await r.manager.apply(setPoint(16));
    await settle(r, () => r.cp.limitA(1) === 16, 'the standing 16 A');
    // The load manager reacts to the new transaction at once: its limit goes before the charger
    // has read the StartTransaction answer that tells it the transaction id.
    let sent = false;
    r.cs.on('connector', (state: ConnectorState) => {
      if (sent || state.connectorId !== 1 || !state.transaction) return;
      sent = true;
      r.manager.apply(setPoint(10)).catch(() => undefined);
    });
    assert.equal(await r.cp.startSession(1, 'TAG-1', { maxA: 32, phases: 3 }), 'Accepted');
    await settle(
      r,
      () => r.cp.rejected.length > 0 && r.cp.limitA(1) === 10,
      `rejected ${r.cp.rejected.length}, limit ${r.cp.limitA(1)} A`,
    );
    assert.ok(r.cp.rejected.length > 0, 'the strict charger rejected the early TxProfile');
    assertNothingLearned(r);
    assert.equal(r.cp.limitA(1), 10, 'the TxProfile went again and holds the session');
    const last = r.cp.profiles[r.cp.profiles.length - 1]?.csChargingProfiles;
    assert.equal(last?.chargingProfilePurpose, 'TxProfile');
    assert.equal(r.manager.charger('CP1')?.memory.worked['session/limit']?.startsWith('TxProfile/'), true);
  });

  it('learns nothing from a TxProfile rejected for a transaction answered ConcurrentTx, which the charger stops', async () => {
    // It takes a moment to stop the transaction (a real charger reports Finishing first, ...): its
    // refusal arrives while the central system still has the transaction running.
    const r = await rig(
      2,
      { authorization: { policy: 'acceptAll', oneTransactionPerTag: 'every' } },
      { deauthorizedStopDelayMs: 300 },
    );
    await r.manager.apply([setPoint(16), setPoint(16, { connectorId: 2 })]);
    await settle(r, () => r.cp.limitA(1) === 16 && r.cp.limitA(2) === 16, 'the standing 16 A');
    assert.equal(await r.cp.startSession(1, 'TAG', { maxA: 32, phases: 3 }), 'Accepted');
    await settle(r, () => r.cp.limitA(1) === 16, 'the session’s 16 A');
    // The same tag on connector 2: answered ConcurrentTx; the load manager gives it a limit as it starts.
    let sent = false;
    r.cs.on('message', (message: ChargePointMessage) => {
      if (sent || message.action !== 'StartTransaction') return;
      if ((message.request as { connectorId: number }).connectorId !== 2) return;
      sent = true;
      r.manager.apply(setPoint(10, { connectorId: 2 })).catch(() => undefined);
    });
    assert.equal(await r.cp.startSession(2, 'TAG', { maxA: 32, phases: 3 }), 'ConcurrentTx');
    await settle(r, () => r.cp.rejected.length > 0, 'the TxProfile for the ConcurrentTx transaction');
    assert.ok(sent);
    assert.ok(r.cp.rejected.length > 0, 'the strict charger rejected the TxProfile');
    assertNothingLearned(r);
    // The transaction ended: connector 2's limit goes for the next session once the stop settled.
    r.clock.advance(1_000);
    await settle(r, () => r.cp.limitA(2) === 10, `connector 2 at ${r.cp.limitA(2)} A`);
    assert.equal(r.cp.limitA(2), 10);
    assert.equal(r.manager.charger('CP1')?.connectors.find((c) => c.connectorId === 2)?.confirmed, true);
  });

  it('forgets a TxProfile refused as its transaction ended, once the stop that was queued behind the answer arrives', async () => {
    const r = await rig(1);
    await r.manager.apply(setPoint(16));
    await settle(r, () => r.cp.limitA(1) === 16, 'the standing 16 A');
    assert.equal(await r.cp.startSession(1, 'TAG-1', { maxA: 32, phases: 3 }), 'Accepted');
    await r.manager.apply(setPoint(12));
    await settle(r, () => r.cp.limitA(1) === 12, 'the session’s 12 A');
    // The car unplugs: the charger ends the transaction, and a limit for it arrives before its
    // StopTransaction goes (seen in CI: the TxProfile refused, kept against the charger for 15 min).
    await r.cp.stopSession(1, 'Local', async () => {
      r.manager.apply(setPoint(8)).catch(() => undefined);
      await settle(r, () => r.cp.rejected.length > 0, 'the TxProfile for the ended transaction');
    });
    await until(
      () => r.lines().some((line) => /was refused as transaction \d+ ended/.test(line)),
      [[r.cs, 'message']],
      5000,
      () => r.lines().join('\n'),
    );
    await r.manager.whenSettled('CP1');
    assert.deepEqual(r.manager.charger('CP1')?.memory.refused, {}, 'the refusal is not kept');
    const facts = r.cs.storedData('CP1', 'profiles') as { memory?: { refused?: object } } | undefined;
    assert.deepEqual(facts?.memory?.refused ?? {}, {}, 'nor in the charger’s record');
    // The next session's limit goes as a TxProfile again.
    const before = r.profiles.length;
    assert.equal(await r.cp.startSession(1, 'TAG-2', { maxA: 32, phases: 3 }), 'Accepted');
    await r.manager.apply(setPoint(10));
    await settle(r, () => r.cp.limitA(1) === 10, 'the next session’s 10 A');
    const sent = r.profiles.slice(before).map((p) => p.csChargingProfiles.chargingProfilePurpose);
    assert.equal(sent[sent.length - 1], 'TxProfile', `sent ${sent.join(', ')}`);
    // The offline fallback, removed for the ChargePointMaxProfile that worked meanwhile, is back.
    const fallbacks = r.profiles
      .slice(before)
      .filter(
        (p) => p.connectorId === 0 && p.csChargingProfiles.chargingProfilePurpose === 'TxDefaultProfile',
      );
    assert.equal(fallbacks.length, 1, 'the offline fallback went again');
  });
});
