import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { Brake, type BrakeAttempt } from '../../../lib/ocpp/brake';

/**
 * The brake's own memory under a flood of made-up identities (the sockets are in
 * test/reliability/security-brake-flood_spec.ts; 20,000 handshakes would take minutes there).
 */
describe('the password brake', () => {
  it('does not forget a known charger’s failures when 20,000 made-up identities fail', () => {
    const clock = new ManualClock();
    const brake = new Brake({
      clock,
      guarded: (identity) => identity === 'CP-1',
      recordedAddress: () => undefined,
      isListening: () => true,
      held() {},
    });
    const checked: string[] = [];
    const attempt = (identity: string, remoteAddress: string): BrakeAttempt => ({
      identity,
      remoteAddress,
      gone: () => false,
      check: () => checked.push(`${identity}@${remoteAddress}`),
      refuse: () => undefined,
    });
    // CP-1 fails 4 times from 4 addresses: its gate closes for 1 s.
    let delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push(brake.failed('CP-1', `10.0.0.${i}`, () => undefined).delayMs);
    assert.deepEqual(delays, [0, 0, 0, 1000]);
    // 20,000 made-up identities fail, each from an address of its own (no address gets slowed).
    for (let i = 0; i < 20_000; i++) brake.failed(`X-${i}`, `10.1.${i >> 8}.${i & 255}`, () => undefined);
    clock.advance(1000);
    // CP-1's next failures are still its 5th and 6th: 2 s, then 4 s; it was not forgotten.
    brake.admit(attempt('CP-1', '10.2.0.1'));
    assert.deepEqual(checked, ['CP-1@10.2.0.1']);
    delays = [brake.failed('CP-1', '10.2.0.1', () => undefined).delayMs];
    brake.admit(attempt('CP-1', '10.2.0.2'));
    assert.equal(checked.length, 1, 'the next guess waits for the gate');
    clock.advance(2000);
    assert.equal(checked.length, 2);
    delays.push(brake.failed('CP-1', '10.2.0.2', () => undefined).delayMs);
    assert.deepEqual(delays, [2000, 4000]);
  });
});
