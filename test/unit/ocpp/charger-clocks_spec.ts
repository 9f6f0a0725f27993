import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ChargerClocks, chargerTimestamp } from '../../../lib/ocpp/charger-clocks';
import { RecordingLogger } from '../../support/ocpp';

describe('charger clocks measured from their own timestamps', () => {
  const at = (ms: number) => new Date(Date.parse('2026-11-26T08:00:00Z') + ms).toISOString();

  it('is the median of the last 9 samples, from 3 on: two queued messages do not move it', () => {
    const log = new RecordingLogger();
    const clocks = new ChargerClocks(new EventEmitter(), log);
    clocks.sample('EV-1', 300_200);
    clocks.sample('EV-1', 299_900);
    assert.equal(clocks.clockOf('EV-1'), undefined, 'not from two samples');
    assert.equal(clocks.offsetMs('EV-1'), 0);
    // Two StatusNotifications that waited an hour in the charger's queue.
    clocks.sample('EV-1', 300_000 - 3_600_000);
    clocks.sample('EV-1', 300_000 - 3_500_000);
    clocks.sample('EV-1', 300_100);
    assert.deepEqual(clocks.clockOf('EV-1'), { offsetMs: 299_900, samples: 5 });
    assert.equal(clocks.offsetMs('EV-1'), 300_000, 'whole seconds');
    assert.equal(log.matching(/EV-1: its clock is 300 s ahead of ampflow's/, 'warn').length, 1, 'said once');
    for (let i = 0; i < 9; i++) clocks.sample('EV-1', 400);
    assert.equal(clocks.offsetMs('EV-1'), 0, 'under a second: nothing shifted');
    assert.equal(log.matching(/EV-1: its clock is within 60 s of ampflow's again/, 'info').length, 1);
  });

  it('reads the charger’s newest timestamp of each message against its receive time', () => {
    const source = new EventEmitter();
    const clocks = new ChargerClocks(source, new RecordingLogger());
    const message = (action: string, request: unknown, receivedMs: number) =>
      source.emit('message', {
        chargePointId: 'EV-2',
        action,
        request,
        response: {},
        receivedAt: at(receivedMs),
        payload: {},
      });
    message(
      'StatusNotification',
      { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(-300_000) },
      0,
    );
    message(
      'MeterValues',
      { connectorId: 1, meterValue: [{ timestamp: at(-360_000) }, { timestamp: at(-299_000) }] },
      1_000,
    );
    message('Heartbeat', {}, 2_000);
    message(
      'StartTransaction',
      { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: at(-298_000) },
      3_000,
    );
    assert.deepEqual(clocks.clockOf('EV-2'), { offsetMs: -300_000, samples: 3 });
    assert.equal(chargerTimestamp('Heartbeat', {}), undefined);
    clocks.stop();
    assert.equal(source.listenerCount('message'), 0);
  });
});
