import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../lib/clock';
import { waitFor } from '../../support/events';
import { useOcppHarness } from '../../support/ocpp';

describe('keep-alive', () => {
  const harness = useOcppHarness();

  it('closes a silent connection only after the configured multiple of the heartbeat interval', async () => {
    const clock = new ManualClock();
    const cs = await harness().centralSystem({
      clock,
      heartbeatIntervalS: 60,
      deadAfterHeartbeats: 3,
      chargePoints: { 'CP-NOPING': { pingIntervalS: 0 } },
    });
    const { client } = await harness().bootedCharger(cs, 'CP-NOPING');
    clock.advance(100_000);
    await client.call('Heartbeat', {}); // traffic moves the deadline: dead at 100 s + 180 s
    clock.advance(179_000);
    assert.equal(cs.isConnected('CP-NOPING'), true);
    const gone = waitFor<[{ chargePointId: string }]>(cs, 'disconnect');
    clock.advance(1000);
    assert.equal((await gone)[0].chargePointId, 'CP-NOPING');
    assert.equal(
      harness().log.matching(/CP-NOPING: nothing received for 180 s, closing the connection as dead/).length,
      1,
    );
  });

  it('counts the charger’s own WebSocket pings as signs of life (OCPP-J 1.6 section 5.3)', async () => {
    const clock = new ManualClock();
    const cs = await harness().centralSystem({ clock, heartbeatIntervalS: 60, pingIntervalS: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${cs.port}/CP-PINGER`, ['ocpp1.6']);
    try {
      await waitFor(ws, 'open');
      for (let minute = 0; minute < 10; minute++) {
        clock.advance(60_000);
        const pong = waitFor(ws, 'pong');
        ws.ping();
        await pong;
      }
      assert.equal(
        cs.isConnected('CP-PINGER'),
        true,
        'ten minutes of pings and no OCPP message: still alive',
      );
    } finally {
      ws.close();
    }
  });

  it('pings chargers at the configured interval unless a charger has pings off', async () => {
    const cs = await harness().centralSystem({
      pingIntervalS: 1,
      chargePoints: { 'CP-QUIET': { pingIntervalS: 0 } },
    });
    const open = (id: string) => new WebSocket(`ws://127.0.0.1:${cs.port}/${id}`, ['ocpp1.6']);
    const pinged = open('CP-PING');
    const quiet = open('CP-QUIET');
    try {
      await Promise.all([waitFor(pinged, 'open'), waitFor(quiet, 'open')]);
      const pings: string[] = [];
      pinged.on('ping', () => pings.push('CP-PING'));
      quiet.on('ping', () => pings.push('CP-QUIET'));
      await waitFor(pinged, 'ping', () => true, 3000);
      await waitFor(pinged, 'ping', () => true, 3000);
      assert.deepEqual(pings, ['CP-PING', 'CP-PING']);
    } finally {
      pinged.close();
      quiet.close();
    }
  });
});
