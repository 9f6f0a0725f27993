import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import {
  NO_OFFLINE_FALLBACK,
  profilesSent,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

/**
 * When a set-point's command leaves (queue-starts.ts): a limit that goes down is written in the
 * turn its set-point arrived in, not after every other set-point of that turn; anything else waits
 * for the end of the turn, so that a decrease arriving later in the same turn still goes first;
 * set-points given as one list are all seen before the first command.
 */

/** The SetChargingProfile frames the central system wrote, as `<connector>:<limit>`, from now on. */
function framesOut(cs: CentralSystem): string[] {
  const written: string[] = [];
  cs.on('frame', ({ direction, frame }: { direction: string; frame: string }) => {
    if (direction !== 'out') return;
    const [, , action, request] = JSON.parse(frame) as [number, string, string, SetChargingProfileRequest];
    if (action !== 'SetChargingProfile') return;
    written.push(
      `${request.connectorId}:${request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit}`,
    );
  });
  return written;
}

const TWO_CONNECTORS = {
  sim: { connectors: 2 },
  manager: { ...NO_OFFLINE_FALLBACK, increaseIntervalMs: 0 },
} as const;

describe('Profiles: when a set-point goes out', () => {
  const { rig } = useProfileRig();

  /** Both connectors charging, at 10 A and 16 A, and the frames written from then on. */
  async function chargingAt10And16() {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    await startCharging(r.cp, 2);
    await r.manager.apply([setPoint(10), setPoint(16, { connectorId: 2 })]);
    await settled(r);
    return { r, written: framesOut(r.cs) };
  }

  it('writes a decrease in the turn its set-point arrived in', async () => {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    await r.manager.apply(setPoint(16));
    const written = framesOut(r.cs);
    const applied = r.manager.apply(setPoint(10));
    // Before: after a turn of the event loop (and after every other set-point of this one).
    assert.deepEqual(written, ['1:10'], 'written before apply() returned');
    assert.equal((await applied)[0]?.outcome, 'applied');
  });

  it('holds an increase until the end of the turn: a decrease of the same turn goes first', async () => {
    const { r, written } = await chargingAt10And16();
    const before = r.commands.length;
    // Two set-points in one turn, each on its own, the increase first.
    const up = r.manager.apply(setPoint(14));
    assert.deepEqual(written, [], 'the increase waits for the end of the turn');
    const down = r.manager.apply(setPoint(8, { connectorId: 2 }));
    assert.deepEqual(written, ['2:8'], 'the decrease goes at once');
    assert.equal((await up)[0]?.outcome, 'applied');
    assert.equal((await down)[0]?.outcome, 'applied');
    assert.deepEqual(written, ['2:8', '1:14']);
    assert.deepEqual(
      profilesSent(r.commands, before).map((request) => request.connectorId),
      [2, 1],
    );
  });

  // That a list is seen whole before a charger's first command (QueueStarts.together) is what
  // presets_spec's EVlink case needs (its charger-wide key carries the list's lowest limit) and
  // tests; it fails without it. This one would pass without it (the increase waits for the end of
  // the turn anyway): it tests the order within a list.
  it('sends a list decreases first', async () => {
    const { r, written } = await chargingAt10And16();
    const reports = r.manager.apply([setPoint(14), setPoint(8, { connectorId: 2 })]);
    assert.deepEqual(written, ['2:8'], 'the decrease, though second in the list, at once');
    assert.deepEqual(
      (await reports).map((report) => report.outcome),
      ['applied', 'applied'],
    );
    assert.deepEqual(written, ['2:8', '1:14']);
  });
});
