import assert from 'node:assert/strict';
import { type Clock, ManualClock } from '../../../lib/clock';
import { SimulatedEv } from '../../../sim/ev';

describe('simulated EV following a new offer', () => {
  it('follows even when its timer fires a moment before the clock reads the delay as passed', () => {
    // Node runs timers on the event loop's cached time, which can lag Date.now(): a 1000 ms timer
    // may run when Date.now() says 999 ms have passed. This clock does that for every delay.
    const manual = new ManualClock();
    const early: Clock = {
      now: () => manual.now(),
      setTimeout: (callback, delayMs) => manual.setTimeout(callback, delayMs >= 2 ? delayMs - 1 : delayMs),
      clearTimeout: (handle) => manual.clearTimeout(handle),
    };
    const ev = new SimulatedEv({ maxCurrentA: 32, followDelayMs: 1000 });
    // The charge point looks at what the car draws whenever the car wakes it.
    const seen: number[] = [];
    ev.attach(early, () => seen.push(ev.draw(16, 3).currentA));
    assert.equal(ev.draw(16, 3).currentA, 0, 'the car takes its time');
    manual.advance(1000);
    assert.equal(seen.at(-1), 16, `the charge point saw ${seen.join(', ')} A`);
    ev.detach();
  });
});
