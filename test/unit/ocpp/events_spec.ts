import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ChargePointEvents } from '../../../lib/contracts';
import { silentLogger } from '../../../lib/log';
import { type CentralSystemEvent, type EventSource, subscribe } from '../../../lib/ocpp/events';

/** A central system reduced to its events. */
function source(): EventSource & EventEmitter {
  return Object.assign(new EventEmitter(), { log: silentLogger }) as EventSource & EventEmitter;
}

const connectorState = {
  chargePointId: 'CP-1',
  connectorId: 1,
  online: true,
} as ChargePointEvents['connector'];
const meterValues = {
  chargePointId: 'CP-1',
  action: 'MeterValues',
  request: { connectorId: 1, meterValue: [] },
  response: {},
  receivedAt: '2024-05-01T12:00:00.000Z',
  payload: { chargePointId: 'CP-1', connectorId: 1, readings: [] },
} as unknown as ChargePointEvents['message'];

describe('subscribe (what an ampflow-ocpp-in node listens to)', () => {
  it('listens only to the events its actions can match: a MeterValues node takes no connector states', () => {
    const cs = source();
    const seen: CentralSystemEvent[] = [];
    const unsubscribe = subscribe(cs, { actions: ['MeterValues'] }, (event) => seen.push(event));

    assert.deepEqual(
      cs.eventNames().filter((name) => cs.listenerCount(name) > 0),
      ['message'],
    );
    cs.emit('connector', connectorState);
    cs.emit('message', meterValues);
    assert.deepEqual(
      seen.map((event) => event.action),
      ['MeterValues'],
    );
    unsubscribe();
    assert.equal(cs.listenerCount('message'), 0);
  });

  it('listens to everything without a filter, and hands each listener a copy of the connector state', () => {
    const cs = source();
    const seen: CentralSystemEvent[] = [];
    const unsubscribe = subscribe(cs, {}, (event) => seen.push(event));

    for (const name of ['message', 'connect', 'disconnect', 'connector', 'session'])
      assert.equal(cs.listenerCount(name), 1, name);
    cs.emit('connector', connectorState);
    cs.emit('message', meterValues);
    assert.deepEqual(
      seen.map((event) => event.action),
      ['ConnectorState', 'MeterValues'],
    );
    assert.notEqual(seen[0]?.payload, connectorState);
    assert.deepEqual(seen[0]?.payload, connectorState);
    unsubscribe();
    assert.equal(cs.eventNames().filter((name) => cs.listenerCount(name) > 0).length, 0);
  });

  it('filters by charge point before it builds an event', () => {
    const cs = source();
    const seen: CentralSystemEvent[] = [];
    subscribe(cs, { chargePoints: ['CP-2'] }, (event) => seen.push(event));
    cs.emit('message', meterValues);
    cs.emit('connector', connectorState);
    assert.equal(seen.length, 0);
  });
});
