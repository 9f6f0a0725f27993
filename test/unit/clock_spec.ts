import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock';

describe('ManualClock', () => {
  it('fires timers in due order as time advances, including timers they set', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 15);
    }, 10);
    clock.advance(24);
    assert.deepEqual(fired, ['a@1010', 'b@1020']);
    assert.equal(clock.now(), 1024);
    clock.advance(1);
    assert.deepEqual(fired, ['a@1010', 'b@1020', 'c@1025']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('does not fire a cleared timer', () => {
    const clock = new ManualClock();
    let fired = false;
    const handle = clock.setTimeout(() => {
      fired = true;
    }, 5);
    clock.clearTimeout(handle);
    clock.advance(10);
    assert.equal(fired, false);
  });

  it('fires timers with equal due times in the order they were set', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimeout(() => fired.push(n), 7);
    clock.advance(7);
    assert.deepEqual(fired, [1, 2, 3]);
  });

  it('advanceBefore leaves the timers due at the instant it reaches for the next advance', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`early@${clock.now()}`), 400);
    clock.setTimeout(() => fired.push(`tick@${clock.now()}`), 1000);
    clock.advanceBefore(1000);
    assert.deepEqual(fired, ['early@400']);
    assert.equal(clock.now(), 1000);
    fired.push('input@1000');
    clock.advance(0);
    assert.deepEqual(fired, ['early@400', 'input@1000', 'tick@1000']);
  });
});
