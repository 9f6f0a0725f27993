import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { Reading } from '../../../lib/contracts';
import { ModbusBus } from '../../../lib/modbus/bus';
import { Meter } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import { Staleness } from '../../../lib/modbus/staleness';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { drive, FakeConnector, flush, useSimHarness, waitUntil } from './harness';

/**
 * Known bad news makes a meter stale at once, without waiting for its stale timer (which is for
 * "no news"): its connection lost or refused, or a value's read failing twice in a row.
 */
const sdm630 = findProfile('eastron-sdm630') as DeviceProfile;
const every = sdm630.registers.map((_, index) => index);
const currents = sdm630.registers.flatMap((r, index) => (r.measurand.startsWith('current') ? [index] : []));

describe('Staleness: known bad news is stale at once, the timer is for no news', () => {
  let clock: ManualClock;
  let turned: number;
  const watch = (staleAfterMs: number) => {
    const staleness = new Staleness({
      clock,
      staleAfterMs,
      profile: () => sdm630,
      turnedStale: () => {
        turned += 1;
      },
    });
    staleness.start();
    staleness.read(sdm630, every, clock.now());
    staleness.check();
    return staleness;
  };

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    turned = 0;
  });

  it('a lost connection: stale at once, fresh again only once every value is read after it', () => {
    const staleness = watch(30_000);
    clock.advance(1000);
    staleness.markBad('connection to tcp://10.0.0.5:502 lost (connection closed by the other side)', {
      connectionLost: { address: 'tcp://10.0.0.5:502', error: 'connection closed by the other side' },
    });
    staleness.check();
    assert.equal(staleness.isStale, true, 'stale at once, 29 s before the timer');
    assert.equal(turned, 1);
    assert.equal(
      staleness.staleReason,
      'connection to tcp://10.0.0.5:502 lost (connection closed by the other side)',
    );
    assert.ok(staleness.staleValues.includes('currentL1/import'));
    // An answer from before the loss (a poll that was under way) does not end it.
    staleness.read(sdm630, every, clock.now() - 1);
    staleness.check();
    assert.equal(staleness.isStale, true);
    clock.advance(500);
    staleness.read(sdm630, currents, clock.now());
    staleness.check();
    assert.equal(staleness.isStale, true, 'the currents alone are not every value');
    assert.deepEqual(staleness.staleValues.includes('currentL1/import'), false);
    staleness.read(sdm630, every, clock.now());
    staleness.check();
    assert.equal(staleness.isStale, false);
    assert.equal(staleness.staleReason, undefined);
    staleness.markBad('connection to tcp://10.0.0.5:502 lost (read ECONNRESET)', {
      connectionLost: { address: 'tcp://10.0.0.5:502', error: 'read ECONNRESET' },
    });
    staleness.check();
    assert.equal(turned, 2, 'told again after it was fresh in between');
  });

  it('a failed read: bad news at the second in a row (one lost frame is not), at once when final', () => {
    const staleness = watch(30_000);
    staleness.failed(sdm630, currents, 'no answer within 1000 ms', false);
    staleness.check();
    assert.equal(staleness.isStale, false, 'one timeout: a lost frame, as RS-485 lines have now and then');
    staleness.read(sdm630, currents, clock.now() + 1);
    clock.advance(1000);
    staleness.failed(sdm630, currents, 'no answer within 1000 ms', false);
    staleness.check();
    assert.equal(staleness.isStale, false, 'read in between: not in a row');
    clock.advance(1000);
    staleness.failed(sdm630, currents, 'exception 4 (device failure)', false);
    staleness.check();
    assert.equal(staleness.isStale, true);
    assert.equal(staleness.staleReason, '2 reads in a row failed: exception 4 (device failure)');
    // The same as data (msg.staleCause), for the load manager to word in the dashboard's language.
    assert.deepEqual(staleness.staleCause, {
      readsFailed: { times: 2, error: 'exception 4 (device failure)' },
    });
    assert.ok(staleness.staleValues.includes('currentL3/import'));
    assert.ok(!staleness.staleValues.includes('importEnergy/import'));
    clock.advance(1000);
    staleness.read(sdm630, currents, clock.now());
    staleness.check();
    assert.equal(staleness.isStale, false);

    staleness.failed(sdm630, currents, 'unit not answering (2 failures in a row); next try in 1 s', true);
    staleness.check();
    assert.equal(staleness.isStale, true, 'a final failure is bad news at once');
  });

  it('keeps the timer for no news, and bad news counts with the timer off (0)', () => {
    const timed = watch(3000);
    clock.advance(2999);
    assert.equal(timed.isStale, false);
    clock.advance(1);
    assert.equal(timed.isStale, true);
    assert.equal(timed.staleReason, 'nothing read for 3 s');
    assert.deepEqual(timed.staleCause, { nothingReadS: 3 });

    const untimed = watch(0);
    clock.advance(60_000);
    untimed.check();
    assert.equal(untimed.isStale, false, 'no timer');
    untimed.markBad('no connection to tcp://10.0.0.5:502 (connect ECONNREFUSED 10.0.0.5:502)', {
      noConnection: { address: 'tcp://10.0.0.5:502', error: 'connect ECONNREFUSED 10.0.0.5:502' },
    });
    untimed.check();
    assert.equal(untimed.isStale, true);
  });
});

describe('Meter: stale at once when its connection is lost or refused', () => {
  const harness = useSimHarness();
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  });

  it('a lost connection makes it stale at the same instant, with its last reading; fresh after the next full poll', async () => {
    const connector = new FakeConnector();
    const bus = new ModbusBus({
      name: 'b',
      transport: { kind: 'tcp', host: 'x', port: 1 },
      clock,
      connector,
      reconnect: { initialMs: 500, maxMs: 500 },
    });
    const meter = new Meter({ name: 'grid', bus, profile: sdm630, unitId: 1, pollIntervalMs: 1000, clock });
    const stale: (Reading | undefined)[] = [];
    meter.on('stale', (last: Reading | undefined) => stale.push(last));
    meter.start();
    try {
      const answerAll = async () => {
        for (let i = 0; i < 2; i++) {
          await flush();
          connector.latest?.answer();
        }
        await flush();
      };
      await answerAll();
      assert.ok(meter.lastReading);
      assert.equal(meter.isStale, false);
      assert.equal(meter.staleAfterMs, 3000);
      clock.advance(200);
      connector.drop();
      await flush();
      assert.equal(meter.isStale, true, 'stale at once: 2.8 s before its 3 s timer');
      assert.equal(stale.length, 1);
      assert.equal(stale[0], meter.lastReading, 'the stale event carries the last reading');
      assert.equal(meter.staleReason, 'connection to tcp://x:1 lost (closed by the test)');
      assert.deepEqual(meter.staleCause, {
        connectionLost: { address: 'tcp://x:1', error: 'closed by the test' },
      });
      // Reconnected at 0.7 s; the poll at 1 s reads everything again.
      clock.advance(800);
      await answerAll();
      assert.equal(meter.isStale, false);
      assert.equal(meter.staleReason, undefined);
    } finally {
      meter.stop();
      await bus.close();
    }
  });

  it('a refused connection makes it stale at once, at start too', async () => {
    const connector = new FakeConnector();
    connector.refuse = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const bus = new ModbusBus({
      name: 'b',
      transport: { kind: 'tcp', host: 'x', port: 1 },
      clock,
      connector,
    });
    const meter = new Meter({ name: 'grid', bus, profile: sdm630, unitId: 1, pollIntervalMs: 1000, clock });
    meter.start();
    try {
      await flush();
      assert.equal(meter.isStale, true);
      assert.equal(meter.staleReason, 'no connection to tcp://x:1 (connect ECONNREFUSED 127.0.0.1:1)');
      // The system's error as a code, not its sentence: the load manager words it (issue 48).
      assert.deepEqual(meter.staleCause, {
        noConnection: {
          address: 'tcp://x:1',
          error: 'connect ECONNREFUSED 127.0.0.1:1',
          fault: { kind: 'system', code: 'ECONNREFUSED' },
        },
      });
    } finally {
      meter.stop();
      await bus.close();
    }
  });

  it('a Modbus TCP server that dies: stale without any time passing (real sockets on loopback)', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    server.addUnit(1, new SimulatedMeter(sdm630));
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    const meter = h.meter({ name: 'grid', bus, profile: sdm630, unitId: 1, pollIntervalMs: 1000, clock });
    meter.start();
    await drive(clock, [bus], [server], 1500, 10);
    assert.equal(meter.isStale, false);
    const diedAtMs = clock.now();
    await server.stop();
    await waitUntil(() => meter.isStale, 'the meter is stale');
    assert.equal(clock.now(), diedAtMs, 'no virtual time passed: the closed socket was the news');
    assert.match(meter.staleReason ?? '', /^connection to tcp:\/\/127\.0\.0\.1:\d+ lost \(/);
    // Closed by the server (or reset): its cause as data either way.
    const lost =
      meter.staleCause && 'connectionLost' in meter.staleCause ? meter.staleCause.connectionLost : undefined;
    assert.ok(
      lost?.fault?.kind === 'closedByPeer' || lost?.fault?.kind === 'system',
      JSON.stringify(meter.staleCause),
    );
  });
});
