import assert from 'node:assert/strict';
import { sendJunkEnded201 } from '../../support/junk-stops';
import { isoNow } from '../../support/ocpp';
import { UpstreamBackend } from '../../support/upstream-backend';
import { useUpstreamSite } from './support';
import { Backend201, charger201 } from './support201';

/**
 * Issue 46 item 3 with the operator's backend: a stop ampflow keeps as an anomaly is answered and
 * journalled by ampflow and never reaches the backend as a stop; the true stop does, with the
 * backend's transaction id. Real WebSockets both ways (ocpp-rpc chargers, the strict test backend).
 */
describe('upstream proxy: junk stops stay with ampflow', () => {
  const { interop, site, backendGot } = useUpstreamSite(() => new UpstreamBackend());

  it('sends the backend the true stop only, with its id; the four junk stops are anomalies', async () => {
    const { backend, cs } = await site();
    const { client: a } = await interop.harness().bootedCharger(cs, 'CP-A');
    const { client: b } = await interop.harness().bootedCharger(cs, 'CP-B');
    const start = { connectorId: 1, idTag: 'TAG-1', timestamp: isoNow(-600_000) };
    const { transactionId: idA } = (await a.call('StartTransaction', { ...start, meterStart: 1000 })) as {
      transactionId: number;
    };
    const { transactionId: idB } = (await b.call('StartTransaction', { ...start, meterStart: 500 })) as {
      transactionId: number;
    };
    assert.deepEqual([idA, idB], [7001, 7002], 'the backend’s ids');

    const sent = [
      [b, { transactionId: idA, meterStop: 3000, timestamp: isoNow() }],
      [a, { transactionId: idA, meterStop: 2500, timestamp: isoNow() }],
      [a, { transactionId: idA, meterStop: 999_999_999, timestamp: isoNow() }],
      [a, { transactionId: 4242, meterStop: 100, timestamp: isoNow() }],
      [b, { transactionId: idB, meterStop: -5, timestamp: isoNow() }],
    ] as const;
    // Every one answered (the backend answers the true one: it decides stops while reachable).
    for (const [charger, stop] of sent) await charger.call('StopTransaction', stop);
    // Each charger's CALLs go up in order: once its heartbeat is there, any stop before it would be.
    const beats = [a, b].map((_, i) =>
      backendGot(backend, (c) => c.action === 'Heartbeat' && c.identity === ['CP-A', 'CP-B'][i]),
    );
    await Promise.all([a.call('Heartbeat', {}), b.call('Heartbeat', {})]);
    await Promise.all(beats);

    assert.deepEqual(
      backend.of('StopTransaction').map((c) => [c.identity, c.params.transactionId, c.params.meterStop]),
      [['CP-A', 7001, 2500]],
    );
    assert.deepEqual(
      cs.stopAnomalies().recent.map((x) => [x.chargePointId, x.reason]),
      [
        ['CP-B', 'unknownTransaction'],
        ['CP-A', 'alreadyStopped'],
        ['CP-A', 'unknownTransaction'],
        ['CP-B', 'negativeMeter'],
      ],
    );
    assert.deepEqual(backend.badMessages, []);
  });
});

describe('upstream proxy: junk TransactionEvent Ended stay with ampflow (OCPP 2.0.1)', () => {
  const { interop, site, backendGot } = useUpstreamSite(() => new Backend201());

  it('sends the 2.0.1 backend the true Ended only; junk Ended with an id token are not its to decide', async () => {
    const { backend, cs } = await site();
    const [a, b] = ['CS-A', 'CS-B'].map((identity) => charger201(cs, identity, (c) => interop.track(c)));
    assert.ok(a && b);
    for (const station of [a, b]) {
      await station.connect();
      assert.equal((await station.boot()).status, 'Accepted');
    }
    // With an id token: the backend decides an Ended's answer while it is reachable.
    const { txA } = await sendJunkEnded201(a, b, { idToken: 'TAG-A' });
    const beats = ['CS-A', 'CS-B'].map((identity) =>
      backendGot(backend, (c) => c.action === 'Heartbeat' && c.identity === identity),
    );
    await Promise.all([a.send('Heartbeat', {}), b.send('Heartbeat', {})]);
    await Promise.all(beats);

    const endedUp = backend
      .of('TransactionEvent')
      .filter((c) => c.params.eventType === 'Ended')
      .map((c) => [c.identity, (c.params.transactionInfo as { transactionId: string }).transactionId]);
    assert.deepEqual(endedUp, [['CS-A', txA]]);
    assert.deepEqual(
      cs.stopAnomalies().recent.map((x) => [x.chargePointId, x.reason]),
      [
        ['CS-B', 'otherCharger'],
        ['CS-A', 'alreadyStopped'],
        ['CS-A', 'unknownTransaction'],
        ['CS-B', 'negativeMeter'],
      ],
    );
    assert.deepEqual(backend.badMessages, []);
  });
});
