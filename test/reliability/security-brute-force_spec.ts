import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { PasswordBook } from '../../lib/ocpp/passwords';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { BOOT, useOcppHarness } from '../support/ocpp';
import { type Attempt, attempt, basic, settle, within } from './support/security';

/**
 * Password guessing against security profile 1: the brake (lib/ocpp/brake.ts) keys on the remote address,
 * so the attackers here dial from other loopback addresses (127.0.0.2 ...) than the chargers.
 * The central system runs on a ManualClock: the delays are exact and the tests instant.
 */
const PASSWORDS = PasswordBook.parse('CP-1 0123456789abcdef0123\nCP-2 fedcba9876543210fedc');
const RIGHT = '0123456789abcdef0123';

interface Refusal {
  identity: string;
  remoteAddress: string;
  status: number;
  reason: string;
}

function recordRefusals(cs: CentralSystem): Refusal[] {
  const refusals: Refusal[] = [];
  cs.on('refused', (refusal: Refusal) => refusals.push(refusal));
  return refusals;
}

/** Password checks that failed (the guesses the server actually evaluated), per address. */
const guessesChecked = (refusals: Refusal[], address: string) =>
  refusals.filter((r) => r.remoteAddress === address && r.reason === 'wrong password').length;

/** Resolves when the attempt is answered; fails after `ms` of real time instead of hanging the test. */
const answeredWithin = (a: Attempt, ms = 3000): Promise<number> => within(ms, 'the answer', a.status);

describe('security: password guessing (security profile 1)', () => {
  const harness = useOcppHarness();
  let clock: ManualClock;
  let cs: CentralSystem;
  let refusals: Refusal[];
  const url = (identity = 'CP-1') => `ws://127.0.0.1:${cs.port}/${identity}`;
  const guess = (from: string, password = 'guess-guess-guess', identity = 'CP-1') =>
    attempt(url(identity), { localAddress: from, ...basic(identity, password) });

  beforeEach(async () => {
    clock = new ManualClock();
    cs = await harness().centralSystem({
      securityProfile: 1,
      passwords: PASSWORDS,
      unknownChargePoints: 'reject',
      clock,
    });
    refusals = recordRefusals(cs);
  });

  /** Three failures are free; the fourth from `from` is held back for 1 s (not answered yet). */
  async function exhaustFreeFailures(from: string): Promise<Attempt> {
    for (let i = 0; i < 3; i++) assert.equal(await guess(from).status, 401);
    const fourth = guess(from);
    await waitFor(
      cs,
      'refused',
      (r: Refusal) => r.remoteAddress === from && guessesChecked(refusals, from) === 4,
    );
    await settle();
    assert.equal(fourth.answered(), false, 'the fourth failure is answered late');
    return fourth;
  }

  it('slows down the guessing address and its guesses for that charger: other chargers and identities get in or out at once', async () => {
    const fourth = await exhaustFreeFailures('127.0.0.2');

    // A charger at another address boots while the attacker waits.
    const charger = harness().charger(cs, 'CP-2', {
      password: 'fedcba9876543210fedc',
      wsOpts: { localAddress: '127.0.0.3' },
    } as never);
    await charger.connect();
    assert.deepEqual(
      ((await charger.call('BootNotification', BOOT)) as { status: string }).status,
      'Accepted',
    );
    // A wrong password for another charger from a third address is answered at once: its own
    // first failure.
    assert.equal(await answeredWithin(guess('127.0.0.4', 'guess-guess-guess', 'CP-2')), 401);
    assert.equal(harness().log.matching(/from 127\.0\.0\.4: wrong password \(HTTP 401\)$/, 'warn').length, 1);
    // A guess for CP-1 from there waits for its turn: CP-1's own failures are slowed from any address.
    const sameCharger = guess('127.0.0.4');
    await waitFor(cs, 'held', (h: { remoteAddress: string }) => h.remoteAddress === '127.0.0.4');
    assert.equal(fourth.answered(), false);

    clock.advance(1000);
    assert.equal(await fourth.status, 401);
    assert.equal(
      harness().log.matching(
        /from 127\.0\.0\.2: wrong password \(HTTP 401, answered after 1 s by the per-address and per-identity brake\)/,
      ).length,
      1,
    );
    // Checked once the fourth was answered: CP-1's fifth failure, held 2 s for the charger.
    assert.equal(sameCharger.answered(), false);
    clock.advance(2000);
    assert.equal(await sameCharger.status, 401);
    assert.equal(
      harness().log.matching(
        /from 127\.0\.0\.4: wrong password \(HTTP 401, waited 1 s at the per-identity brake, answered after 2 s by the per-identity brake\)/,
      ).length,
      1,
    );
  });

  it('checks guesses for one charger from 100 addresses no faster than from one, and lets the charger in from where it was accepted', async () => {
    // The charger was accepted from 127.0.0.1 before the guessing started.
    const charger = rpcChargePoint(`ws://127.0.0.1:${cs.port}`, 'CP-1', { password: RIGHT });
    await charger.connect();
    await charger.close();
    let held = 0;
    cs.on('held', () => held++);
    const spray = Array.from({ length: 300 }, (_, i) => guess(`127.0.1.${(i % 100) + 1}`));
    // Each attempt is decided as it arrives: 3 free failures, the 4th held for CP-1, then the
    // next 8 wait behind it and the rest get 429 unchecked.
    await waitFor(cs, 'refused', () => refusals.length === 292);
    await settle();
    assert.equal(refusals.filter((r) => r.reason === 'wrong password').length, 4);
    assert.equal(refusals.filter((r) => r.status === 429).length, 288);
    assert.equal(held, 8);
    // The charger itself, from the address it was accepted from, is not held behind them.
    assert.equal(await answeredWithin(guess('127.0.0.1', RIGHT)), 101);
    // The waiting guesses come out one by one, 2 s, 4 s, ... apart.
    clock.advance(1000);
    await settle();
    assert.equal(refusals.filter((r) => r.reason === 'wrong password').length, 5);
    for (let round = 0; round < 20 && spray.some((a) => !a.answered()); round++) {
      clock.advance(30_000);
      await settle();
    }
    assert.equal(refusals.filter((r) => r.reason === 'wrong password').length, 12);
    const statuses = await Promise.all(spray.map((a) => a.status));
    assert.deepEqual(
      [statuses.filter((s) => s === 401).length, statuses.filter((s) => s === 429).length],
      [12, 288],
    );
  });

  it('does not check parallel guesses faster than one at a time, and holds at most 8 (the rest get 429 unchecked)', async () => {
    const attacker = '127.0.0.2';
    const fourth = await exhaustFreeFailures(attacker);
    const parallel = Array.from({ length: 11 }, () => guess(attacker));
    const overflow = await new Promise<number[]>((resolve) => {
      const statuses: number[] = [];
      for (const a of parallel) {
        void a.status.then((status) => {
          statuses.push(status);
          if (statuses.length === 3) resolve(statuses);
        });
      }
    });
    assert.deepEqual(overflow, [429, 429, 429]);
    const held = parallel.filter((a) => !a.answered());
    assert.equal(held.length, 8);
    assert.equal(guessesChecked(refusals, attacker), 4, 'none of the parallel guesses was checked yet');

    // Each further guess is checked only when the one before has been answered, after its delay.
    // (The clock fires the release, which answers one guess and checks the next, synchronously.)
    clock.advance(1000);
    assert.equal(await fourth.status, 401);
    assert.equal(guessesChecked(refusals, attacker), 5);
    clock.advance(1999);
    assert.equal(guessesChecked(refusals, attacker), 5);
    clock.advance(1);
    assert.equal(guessesChecked(refusals, attacker), 6);
    await Promise.race(held.map((a) => a.status));
    assert.equal(held.filter((a) => a.answered()).length, 1);

    // 13 guesses in 3 s instead of 15 at once; the rest come out one by one, 30 s apart at most.
    for (let round = 0; round < 20 && held.some((a) => !a.answered()); round++) {
      clock.advance(30000);
      await settle();
    }
    assert.deepEqual(await Promise.all(held.map((a) => a.status)), Array(8).fill(401));
    assert.equal(guessesChecked(refusals, attacker), 12);
  });

  it('checks even the right password from a guessing address only when its turn comes', async () => {
    const attacker = '127.0.0.2';
    const fourth = await exhaustFreeFailures(attacker);
    const held = waitFor(cs, 'held');
    const right = guess(attacker, RIGHT);
    await held;
    clock.advance(999);
    await settle();
    assert.equal(right.answered(), false, 'no verdict while a refusal of the address is held');
    clock.advance(1);
    assert.equal(await fourth.status, 401);
    assert.equal(await right.status, 101);
    // The same charger from its own address was never held back.
    const charger = rpcChargePoint(`ws://127.0.0.1:${cs.port}`, 'CP-1', { password: RIGHT });
    await charger.connect();
    await charger.close();
  });

  it('lets another charger behind the guessing address (one site router, NAT) in at once', async () => {
    const site = '127.0.0.2';
    const fourth = await exhaustFreeFailures(site); // CP-1 keeps failing: a wrong password after a swap
    const waiting = guess(site); // CP-1 again, waits for its turn
    await waitFor(cs, 'held', (h: { identity: string }) => h.identity === 'CP-1');
    const neighbour = harness().charger(cs, 'CP-2', {
      password: 'fedcba9876543210fedc',
      wsOpts: { localAddress: site },
    } as never);
    await neighbour.connect();
    assert.equal(((await neighbour.call('BootNotification', BOOT)) as { status: string }).status, 'Accepted');
    assert.equal(fourth.answered(), false, "CP-1's failures are still answered late");
    assert.equal(waiting.answered(), false);
    clock.advance(1000);
    assert.equal(await fourth.status, 401);
    clock.advance(2000);
    assert.equal(await waiting.status, 401);
  });

  it('holds at most 64 attempts of one address back in all; beyond that 429 at once, unchecked', async () => {
    const attacker = '127.0.0.2';
    await exhaustFreeFailures(attacker); // 1 held: CP-1's fourth failure
    // Guesses for 63 other identities each get checked (their first), refused and held back late.
    const sprayed = Array.from({ length: 63 }, (_, i) => guess(attacker, 'guess-guess-guess', `X-${i}`));
    await waitFor(cs, 'refused', () => guessesChecked(refusals, attacker) === 4);
    await waitFor(
      cs,
      'refused',
      () => refusals.filter((r) => r.remoteAddress === attacker && r.identity.startsWith('X-')).length === 63,
    );
    await settle();
    assert.equal(sprayed.filter((a) => a.answered()).length, 0, 'all 63 refusals are answered late');
    // The address has its fill: the next attempt, even with the right password, is not checked.
    const more = guess(attacker, RIGHT);
    assert.equal(await answeredWithin(more), 429);
    assert.match(refusals.at(-1)?.reason ?? '', /64 attempts from this address are already held back/);
    clock.advance(30_000);
    for (const a of sprayed) assert.equal(await a.status, 401);
    // Answered, they free the address's room: a new guess is checked again (and held back late).
    const checkedBefore = refusals.length;
    const next = guess(attacker, 'guess-guess-guess', 'X-new');
    await waitFor(cs, 'refused', (r: Refusal) => r.identity === 'X-new');
    assert.doesNotMatch(refusals.at(-1)?.reason ?? '', /not checked/, 'checked, not turned away');
    assert.equal(refusals.length, checkedBefore + 1);
    clock.advance(30_000);
    assert.equal(await next.status, 401);
  });

  it('answers every held attempt when the central system stops', async () => {
    const attacker = '127.0.0.2';
    const fourth = await exhaustFreeFailures(attacker);
    let held = 0;
    const bothHeld = new Promise<void>((resolve) => cs.on('held', () => ++held === 2 && resolve()));
    const queued = [guess(attacker), guess(attacker, RIGHT)];
    await bothHeld;
    await cs.stop();
    assert.equal(await fourth.status, 401);
    for (const a of queued) {
      const status = await a.status.catch(() => 'socket closed');
      assert.ok(status === 503 || status === 'socket closed', `got ${status}`);
    }
  });

  it('forgets an address after 15 minutes without a failure', async () => {
    const fourth = await exhaustFreeFailures('127.0.0.2');
    clock.advance(1000);
    assert.equal(await fourth.status, 401);
    clock.advance(15 * 60 * 1000 + 1);
    assert.equal(await answeredWithin(guess('127.0.0.2')), 401);
    assert.equal(harness().log.matching(/from 127\.0\.0\.2: wrong password \(HTTP 401\)$/).length, 4);
  });
});
