import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { StartTransactionRequest, StopTransactionRequest } from '../../../lib/ocpp/messages';
import { Fleet, type SessionEvent } from '../../../sim/fleet';
import { assertSessionAgrees, sessionsById } from '../../support/ocpp';
import { allSessions, recordSessions, urlOf, useInterop } from './support';

const COUNT = 50;
const MINUTES = 180;

describe('interop: a fleet of simulated chargers against one central system', () => {
  const interop = useInterop();

  it(`${COUNT} chargers with cars coming and going for ${MINUTES} simulated minutes: every finished session recorded exactly once, ids unique`, async function () {
    this.timeout(30_000);
    const cs = await interop.harness().centralSystem();
    const emitted = recordSessions(cs);
    const clock = new ManualClock();
    const fleet = new Fleet({
      centralSystemUrl: urlOf(cs),
      count: COUNT,
      identityPrefix: 'FLEET-',
      clock,
      chargePoint: {
        connectors: 2,
        configuration: { MeterValueSampleInterval: 600, WebSocketPingInterval: 0 },
      },
      sessions: { sessionMinutes: 40, gapMinutes: 20, seed: 2026 },
    });
    interop.track({ close: () => fleet.stop() });

    // What the chargers sent and had answered, by transaction id.
    const starts = new Map<number, StartTransactionRequest & { chargePointId: string }>();
    const issuedTwice: number[] = [];
    const stops: (StopTransactionRequest & { chargePointId: string })[] = [];
    for (const cp of fleet.chargePoints) {
      cp.on('result', (result) => {
        if (result.action === 'StartTransaction') {
          const id = result.response.transactionId;
          if (starts.has(id)) issuedTwice.push(id);
          starts.set(id, { ...result.request, chargePointId: cp.identity });
        } else if (result.action === 'StopTransaction') {
          stops.push({ ...result.request, chargePointId: cp.identity });
        }
      });
    }
    const stopped: SessionEvent[] = [];
    fleet.on('session', (event) => {
      if (event.kind === 'stopped') stopped.push(event);
    });

    await fleet.start();
    assert.equal(fleet.counters.accepted, COUNT);
    for (let minute = 0; minute < MINUTES; minute++) {
      clock.advance(60_000);
      await fleet.whenIdle();
    }

    assert.deepEqual(issuedTwice, [], 'transaction ids issued twice');
    const sessions = await allSessions(cs);
    assert.ok(sessions.length > COUNT, `only ${sessions.length} sessions`);
    assert.equal(stops.length, stopped.length, 'every stop the fleet made was answered');
    assert.equal(sessions.length, stops.length);
    assert.equal(emitted.length, sessions.length);

    const byId = sessionsById(sessions);
    for (const stop of stops) {
      const session = byId.get(stop.transactionId);
      const start = starts.get(stop.transactionId);
      assert.ok(session && start, `StopTransaction ${stop.transactionId} has no session or no start`);
      assertSessionAgrees(session, start, stop);
      assert.equal(session.connectorId, start.connectorId);
      assert.equal(session.idTag, start.idTag);
    }

    // Whatever is still charging is open, once, on the right connector.
    const open = cs.openTransactions();
    assert.equal(open.length + sessions.length, starts.size);
    for (const tx of open) {
      assert.equal(byId.has(tx.transactionId), false);
      assert.equal(
        cs.connectors.find(tx.chargePointId, tx.connectorId)?.transaction?.transactionId,
        tx.transactionId,
      );
    }
    assert.equal(
      open.length,
      fleet.chargePoints.reduce(
        (sum, cp) => sum + [1, 2].filter((id) => cp.connector(id).transaction).length,
        0,
      ),
    );
    const ids = [...starts.keys()].sort((a, b) => a - b);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(cs.connectedChargePoints().length, COUNT);
  });
});
