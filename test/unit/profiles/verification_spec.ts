import assert from 'node:assert/strict';
import { compareSchedule, DEFAULT_VERIFICATION, LimitWatch, measuredCurrentA } from '../../../lib/profiles';

describe('Profiles: the "ignores limit" rule', () => {
  const options = { followDelayMs: 30_000, toleranceA: 1, ignoreAfterMs: 30_000, scheduleEveryMs: 60_000 };

  it('has documented defaults: 30 s to follow, 1 A tolerance, 30 s over the limit, the schedule read again after 60 s', () => {
    assert.deepEqual(DEFAULT_VERIFICATION, options);
  });

  it('ignores readings before the car had time to follow', () => {
    const watch = new LimitWatch(10, 0, options);
    assert.equal(watch.observe(32, 10_000), undefined);
    assert.equal(watch.observe(32, 29_999), undefined);
    assert.equal(watch.state, 'waiting');
  });

  it('is within the limit up to the tolerance, above it beyond', () => {
    const watch = new LimitWatch(10, 0, options);
    assert.equal(watch.observe(11, 30_000), 'within');
    assert.equal(watch.observe(11.1, 40_000), 'above');
  });

  it('flags a connector that stays above its limit for 30 s and at least two readings', () => {
    const watch = new LimitWatch(10, 0, options);
    assert.equal(watch.observe(16, 30_000), 'above');
    assert.equal(watch.observe(16, 50_000), undefined, 'still above, not yet 30 s');
    assert.equal(watch.observe(16, 60_000), 'ignoresLimit');
    assert.equal(watch.observe(16, 70_000), undefined);
    // A reading within the limit clears it.
    assert.equal(watch.observe(9, 80_000), 'within');
    assert.equal(watch.observe(16, 90_000), 'above');
  });

  it('needs two readings: one long-delayed reading is not enough', () => {
    const watch = new LimitWatch(10, 0, { ...options, ignoreAfterMs: 0 });
    assert.equal(watch.observe(16, 100_000), 'above');
    assert.equal(watch.observe(16, 100_001), 'ignoresLimit');
  });

  it('keeps counting across new limits: a car above every limit of a fast load manager is flagged', () => {
    // Limits every 5 s between 8 and 12 A, the car at 32 A throughout. Before, every limit
    // started the watch over and the 30 s follow delay never ended.
    const watch = new LimitWatch(10, 0, options);
    const verdicts: (string | undefined)[] = [];
    for (let atMs = 5_000; atMs <= 90_000; atMs += 5_000) {
      watch.follow(atMs % 10_000 === 0 ? 8 : 12, atMs);
      verdicts.push(watch.observe(32, atMs + 1));
    }
    assert.deepEqual(
      verdicts.filter((verdict) => verdict !== undefined),
      ['above', 'ignoresLimit'],
    );
    assert.equal(watch.lastAllowedA, 12, 'the highest limit of the last 30 s');
    assert.equal(watch.limitA, 8);
  });

  it('allows the highest limit of the follow window: a raise at once, a decrease after 30 s', () => {
    const watch = new LimitWatch(16, 0, options);
    assert.equal(watch.observe(16, 30_000), 'within');
    watch.follow(6, 40_000);
    assert.equal(watch.allowedA(40_000), 16);
    assert.equal(watch.observe(16, 60_000), undefined, 'the car may still follow 16 A until 70 s');
    assert.equal(watch.allowedA(69_999), 16);
    assert.equal(watch.allowedA(70_000), 6);
    assert.equal(watch.observe(16, 70_000), 'above');
    watch.follow(20, 75_000);
    assert.equal(watch.allowedA(75_000), 20, 'a raise allows more at once');
    assert.equal(watch.observe(16, 75_000), 'within');
  });

  it('never flags a car that follows each limit within the follow delay', () => {
    const watch = new LimitWatch(32, 0, options);
    let drawA = 32;
    const verdicts: (string | undefined)[] = [];
    for (let atMs = 10_000; atMs <= 300_000; atMs += 10_000) {
      const limitA = 6 + ((atMs / 10_000) % 5) * 6;
      watch.follow(limitA, atMs);
      // The car reaches each limit 25 s after it was given (slower than the next limit).
      verdicts.push(watch.observe(drawA, atMs));
      drawA = limitA;
    }
    assert.ok(!verdicts.includes('above') && !verdicts.includes('ignoresLimit'), String(verdicts));
  });

  it('measures the highest phase, else the current without phase, else the power over the phases', () => {
    assert.equal(measuredCurrentA({ currentA: [10, 12.5, null] }, 230, 3), 12.5);
    assert.equal(measuredCurrentA({ currentUnphasedA: 7 }, 230, 3), 7);
    assert.equal(measuredCurrentA({ totalPowerW: 6900 }, 230, 3), 10);
    assert.equal(measuredCurrentA({ powerW: [2300, null, null] }, 230, 1), 10);
    assert.equal(measuredCurrentA({ importWh: 5 }, 230, 3), undefined);
  });

  it('takes a composite schedule at the limit (within rounding) as matching, above as differs, clearly below as lower', () => {
    assert.equal(compareSchedule(16, 16), 'matches');
    assert.equal(compareSchedule(16.1, 16), 'matches');
    assert.equal(compareSchedule(16.2, 16), 'differs');
    assert.equal(compareSchedule(11050, 11040), 'matches');
    // "At or below" used to match: a charger held at 0 A by a stale ChargePointMaxProfile then
    // counted as verified while the car stayed uncharged. Clearly below is a verdict of its own.
    assert.equal(compareSchedule(6, 16), 'lower');
    assert.equal(compareSchedule(0, 16), 'lower');
    assert.equal(compareSchedule(0, 0), 'matches');
    // A charger that rounds down to whole amperes (10.7 A to 10 A) or a few watts is within.
    assert.equal(compareSchedule(10, 10.7), 'matches');
    assert.equal(compareSchedule(10900, 11040), 'matches');
    assert.equal(compareSchedule(10400, 11040), 'lower');
    assert.equal(compareSchedule(undefined, 16), 'unsupported');
  });
});
