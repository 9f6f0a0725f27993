import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { SendLocalListRequest } from '../../../lib/ocpp/messages';
import type {
  ReceivedMessage,
  SimulatedChargePoint,
  SimulatedChargePointOptions,
} from '../../../sim/charge-point';
import { roundTrip, useInterop } from './support';

const TAGS = [
  { idTag: 'TAG-A', status: 'Accepted' as const },
  { idTag: 'TAG-B', status: 'Accepted' as const, expiryDate: '2027-01-01T00:00:00.000Z' },
  { idTag: 'FLEET', status: 'Accepted' as const, priority: 5, note: 'the vans' },
  { idTag: 'VAN-1', status: 'Accepted' as const, parentIdTag: 'FLEET' },
];

/** The list as a charger should hold it: idTag → idTagInfo (status, expiryDate, parentIdTag; never priority or note). */
function chargerView(cs: CentralSystem): [string, unknown][] {
  return cs.idTags
    .entries()
    .map((entry): [string, unknown] => [
      entry.idTag,
      {
        status: entry.status,
        ...(entry.expiryDate === undefined ? {} : { expiryDate: entry.expiryDate }),
        ...(entry.parentIdTag === undefined ? {} : { parentIdTag: entry.parentIdTag }),
      },
    ])
    .sort(([a], [b]) => a.localeCompare(b));
}

function simulatorView(cp: SimulatedChargePoint): [string, unknown][] {
  return [...cp.localAuthorizationList.entries].sort(([a], [b]) => a.localeCompare(b));
}

/** Every SendLocalList the simulator receives. */
function recordSendLocalList(cp: SimulatedChargePoint): SendLocalListRequest[] {
  const sent: SendLocalListRequest[] = [];
  cp.on('received', (message: ReceivedMessage) => {
    if (message.action === 'SendLocalList') sent.push(message.request);
  });
  return sent;
}

describe('interop: local authorization list (pushLocalList)', () => {
  const interop = useInterop();

  /** A central system and CP-1 connected to it, every SendLocalList it receives recorded. */
  async function charger(options: Partial<SimulatedChargePointOptions> = {}) {
    const { cs, cp } = await interop.connected('CP-1', options);
    return { cs, cp, sent: recordSendLocalList(cp) };
  }

  /** charger(), on a charger that takes at most two entries per SendLocalList, its keys read. */
  async function twoEntriesAtATime() {
    const connected = await charger({
      configuration: { SendLocalListMaxLength: { value: 2, readonly: true } },
    });
    await roundTrip(connected.cs, connected.cp, 'GetConfiguration', {});
    return connected;
  }

  it('Full the first time, Differential after further changes, nothing when in step, Full when forced; both sides hold the same list', async () => {
    const { cs, cp, sent } = await charger();

    await cs.idTags.upsert(TAGS);
    assert.equal(cs.idTags.version, 1000);
    assert.deepEqual(await cs.pushLocalList('CP-1'), { listVersion: 1000, updateType: 'Full' });
    assert.deepEqual(sent, [
      {
        listVersion: 1000,
        updateType: 'Full',
        localAuthorizationList: [
          { idTag: 'FLEET', idTagInfo: { status: 'Accepted' } },
          { idTag: 'TAG-A', idTagInfo: { status: 'Accepted' } },
          { idTag: 'TAG-B', idTagInfo: { status: 'Accepted', expiryDate: '2027-01-01T00:00:00.000Z' } },
          { idTag: 'VAN-1', idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET' } },
        ],
      },
    ]);
    assert.deepEqual(simulatorView(cp), chargerView(cs));
    assert.equal(cp.localAuthorizationList.version, 1000);
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, 1000);

    await cs.idTags.upsert([
      { idTag: 'TAG-C', status: 'Accepted' },
      { idTag: 'TAG-A', status: 'Blocked' },
    ]);
    await cs.idTags.remove(['TAG-B']);
    assert.equal(cs.idTags.version, 3000);
    assert.deepEqual(await cs.pushLocalList('CP-1'), { listVersion: 3000, updateType: 'Differential' });
    assert.deepEqual(sent[1], {
      listVersion: 3000,
      updateType: 'Differential',
      localAuthorizationList: [
        { idTag: 'TAG-A', idTagInfo: { status: 'Blocked' } },
        { idTag: 'TAG-B' },
        { idTag: 'TAG-C', idTagInfo: { status: 'Accepted' } },
      ],
    });
    assert.deepEqual(simulatorView(cp), chargerView(cs));
    assert.equal(cp.localAuthorizationList.version, 3000);
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, 3000);

    // A change the charger never sees (priority, note) does not move the version.
    await cs.idTags.upsert([{ idTag: 'FLEET', status: 'Accepted', priority: 9 }]);
    assert.deepEqual(await cs.pushLocalList('CP-1'), { listVersion: 3000, updateType: 'none' });
    assert.equal(sent.length, 2);

    assert.deepEqual(await cs.pushLocalList('CP-1', { full: true }), {
      listVersion: 3000,
      updateType: 'Full',
    });
    assert.equal(sent[2]?.updateType, 'Full');
    assert.equal(sent[2]?.listVersion, 3000);
    assert.deepEqual(simulatorView(cp), chargerView(cs));
    assert.deepEqual(await roundTrip(cs, cp, 'GetLocalListVersion', {}), { listVersion: 3000 });

    // The simulator authorizes from the list it was given when the central system is out of reach.
    await cp.disconnect();
    assert.deepEqual(await cp.authorize('TAG-C'), { status: 'Accepted' });
    assert.deepEqual(await cp.authorize('TAG-A'), { status: 'Blocked' });
    assert.deepEqual(await cp.authorize('VAN-1'), { status: 'Accepted', parentIdTag: 'FLEET' });
    assert.deepEqual(await cp.authorize('TAG-B'), { status: 'Invalid' });
  });

  for (const status of ['VersionMismatch', 'Failed'] as const) {
    it(`a Differential answered ${status} is followed by a Full update (5.15: "Failed or VersionMismatch")`, async () => {
      const { cs, cp, sent } = await charger();
      await cs.idTags.upsert(TAGS);
      await cs.pushLocalList('CP-1');
      cp.override('SendLocalList', (request, next) =>
        request.updateType === 'Differential' ? { status } : next(),
      );
      await cs.idTags.upsert([{ idTag: 'TAG-C', status: 'Accepted' }]);
      const pushed = await cs.pushLocalList('CP-1').catch((err: Error) => err);
      assert.deepEqual(
        sent.map((request) => `${request.updateType} ${request.listVersion}`),
        ['Full 1000', 'Differential 2000', 'Full 2000'],
        `pushLocalList gave ${pushed instanceof Error ? `the error "${pushed.message}"` : JSON.stringify(pushed)}`,
      );
      assert.deepEqual(pushed, { listVersion: 2000, updateType: 'Full' });
      assert.deepEqual(simulatorView(cp), chargerView(cs));
      assert.equal(cp.localAuthorizationList.version, 2000);
      assert.equal(cs.chargePoint('CP-1')?.localListVersion, 2000);
    });
  }

  it('a list longer than SendLocalListMaxLength goes in chunks the simulator accepts, and both sides end with the same list', async () => {
    const { cs, cp, sent } = await twoEntriesAtATime();
    const replies: string[] = [];
    cp.on('replied', (message) => {
      if (message.action === 'SendLocalList') replies.push(message.response?.status ?? String(message.error));
    });
    await cs.idTags.upsert([...TAGS, { idTag: 'TAG-C', status: 'Accepted' }]);
    const pushed = await cs.pushLocalList('CP-1').catch((err: Error) => err);
    const exchange = sent.map(
      (request, index) => `${request.updateType} ${request.listVersion}: ${replies[index]}`,
    );
    assert.ok(
      !(pushed instanceof Error),
      `pushLocalList failed: ${pushed}; exchange: ${exchange.join(', ')}`,
    );
    assert.equal(sent.length, 3, exchange.join(', '));
    assert.ok(sent.every((request) => (request.localAuthorizationList ?? []).length <= 2));
    assert.deepEqual(simulatorView(cp), chargerView(cs));
    assert.equal(cp.localAuthorizationList.version, cs.idTags.version);
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, cs.idTags.version);
  });

  it('later changes go as Differential updates of at most SendLocalListMaxLength entries each', async () => {
    const { cs, cp, sent } = await twoEntriesAtATime();
    await cs.idTags.upsert([{ idTag: 'TAG-A', status: 'Accepted' }]);
    assert.deepEqual(await cs.pushLocalList('CP-1'), { listVersion: 1000, updateType: 'Full' });
    for (const idTag of ['TAG-B', 'TAG-C', 'TAG-D']) await cs.idTags.upsert([{ idTag, status: 'Accepted' }]);
    assert.deepEqual(await cs.pushLocalList('CP-1'), { listVersion: 4000, updateType: 'Differential' });
    assert.deepEqual(
      sent.map(
        (request) =>
          `${request.updateType} ${request.listVersion} ${(request.localAuthorizationList ?? []).length}`,
      ),
      ['Full 1000 1', 'Differential 3000 2', 'Differential 4000 1'],
    );
    assert.deepEqual(simulatorView(cp), chargerView(cs));
    assert.equal(cp.localAuthorizationList.version, 4000);
  });

  it('a charger without local list support answers NotSupported, and pushLocalList says so', async () => {
    const { cs, cp } = await charger({
      configuration: {
        SupportedFeatureProfiles: 'Core,FirmwareManagement,Reservation,SmartCharging,RemoteTrigger',
      },
    });
    assert.deepEqual(await roundTrip(cs, cp, 'GetLocalListVersion', {}), { listVersion: -1 });
    await cs.idTags.upsert(TAGS);
    await assert.rejects(cs.pushLocalList('CP-1'), /CP-1 answered SendLocalList with NotSupported/);
    assert.deepEqual(simulatorView(cp), []);
  });
});
