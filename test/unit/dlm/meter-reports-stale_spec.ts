import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { type MessageFlags, parseDlmMessage } from '../../../lib/dlm/messages';
import type { SiteConfig } from '../../../lib/dlm/site';
import { home, wallbox } from './pv-home';
import { harness } from './support';

/**
 * A meter that says it is stale (ampflow-meter's msg.stale: its Modbus connection lost, its reads
 * failing) puts its circuit on the fail-safe in the same update, not after the load manager's own
 * stale timer (30 s by default); a newer reading ends it. Messages go through parseDlmMessage as
 * the node passes them.
 */
const site: SiteConfig = {
  circuits: [
    {
      id: 'zone',
      limitA: 32,
      meter: { source: 'zone-meter', location: 'otherLoadsOnly' },
      fallback: { otherLoadA: 20 },
    },
  ],
  connectors: ['A', 'B'].map((id) => ({ chargePointId: id, circuit: 'zone' })),
};

const LOST = 'connection to tcp://10.0.0.5:502 lost (connection closed by the other side)';

describe('LoadManager: a meter that reports it is stale', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  /** A message as the dlm node gets it (topic, payload, msg.stale / msg.staleReason). */
  const deliver = (payload: object, flags: MessageFlags = {}) => {
    const input = parseDlmMessage('zone-meter', payload, h.iso(), flags);
    if (input.kind === 'reading') h.manager.reading(input.reading);
    else if (input.kind === 'meterStale') h.manager.meterStale(input.source, input.why);
    else assert.fail(`unexpected ${JSON.stringify(input)}`);
  };
  const reading = (currentA: PerPhase, timestamp = h.iso()) => ({
    source: 'zone-meter',
    timestamp,
    currentA,
  });

  /** Two cars at 15 A each on 32 A, the meter reading 1.9 A a phase every second (and the 0.005 A it may hide). */
  function charging() {
    h = harness(site);
    h.start();
    let meterOn = true;
    h.feed(() => meterOn && deliver(reading([1.9, 1.9, 1.9])));
    h.plugIn('A/1');
    h.plugIn('B/1');
    h.obey('A/1');
    h.obey('B/1');
    h.run(120_000);
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [15, 15]);
    return () => {
      meterOn = false;
    };
  }

  it('puts the circuit on its fail-safe in the same update, says why, and takes none of its values', () => {
    const silence = charging();
    silence();
    const lastReading = reading([1.9, 1.9, 1.9]);
    deliver(lastReading);
    const atMs = h.clock.now();
    // The meter's stale message carries its last reading; this one even claims 25 A a phase.
    deliver({ ...lastReading, currentA: [25, 25, 25] }, { stale: true, staleReason: LOST });
    assert.equal(h.clock.now(), atMs, 'no time passed');
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 6], '(32 − 20) / 2, at once');
    assert.equal(
      h.setPoint('A/1')?.reason,
      `fallback: meter "zone-meter" of zone reports it is stale (${LOST}), other loads taken as 20/20/20 A; limited: zone L1 is full`,
    );
    assert.ok(
      h.logged.includes(
        `warn: zone: fallback: meter "zone-meter" of zone reports it is stale (${LOST}), other loads taken as 20/20/20 A`,
      ),
      h.logged.join('\n'),
    );
    const summary = h.manager.summary();
    assert.equal(summary.circuits[0]?.meter?.stale, true);
    assert.deepEqual(summary.circuits[0]?.meter?.measuredA, [1.9, 1.9, 1.9], 'the notice brought no values');
  });

  it('stays stale for readings no newer than what it held; a newer reading makes it fresh again', () => {
    const silence = charging();
    silence();
    const lastReading = reading([1.9, 1.9, 1.9]);
    deliver(lastReading);
    h.run(1000);
    deliver(lastReading, { stale: true, staleReason: LOST });
    assert.equal(h.limit('A/1'), 6);
    // The same last reading again, without the flag (a flow that repeats it): not news.
    h.run(1000);
    deliver(lastReading);
    assert.equal(h.limit('A/1'), 6);
    assert.equal(h.manager.summary().circuits[0]?.meter?.stale, true);
    // Reconnected: the next poll.
    h.run(1000);
    deliver(reading([1.9, 1.9, 1.9]));
    assert.equal(h.manager.summary().circuits[0]?.meter?.stale, false);
    assert.ok(h.logged.includes('info: meter "zone-meter" of zone is fresh again'), h.logged.join('\n'));
    assert.doesNotMatch(h.setPoint('A/1')?.reason ?? '', /fallback/);
  });

  it('a notice from a meter no circuit has changes nothing', () => {
    charging();
    const before = h.manager.updateCount;
    assert.equal(h.manager.meterStale('pv-inverter', LOST), false);
    assert.equal(h.manager.updateCount, before);
  });

  it('a grid meter that reports it is stale gives no PV surplus from its last reading', () => {
    const setup = home([wallbox('WB-1')]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = 8000;
    h.run(300_000);
    assert.equal(h.manager.summary().pv?.surplusW, 8000 - 300 - 100);
    assert.equal(h.manager.meterStale('grid', LOST), true);
    assert.equal(h.manager.summary().pv?.surplusW, undefined, 'no surplus from the last reading');
    assert.equal(h.manager.summary().pv?.gridPowerW, undefined);
  });
});
