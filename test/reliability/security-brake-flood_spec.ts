import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { PasswordBook } from '../../lib/ocpp/passwords';
import { checksAllowedWithin } from '../support/brake-rate';
import { rpcChargePoint } from '../support/charge-point';
import { useOcppHarness } from '../support/ocpp';
import { type Attempt, attempt, basic, settle, within } from './support/security';

/**
 * The brake against a flood: one address fills its room for held-back attempts with sockets for
 * junk identities and guesses one charger's password meanwhile. Real WebSockets against the real
 * central system on a ManualClock; the checks are counted by the `refused` events of password
 * checks that failed (`wrong password`), nothing else compares a password.
 */
const PASSWORDS = PasswordBook.parse('CP-1 0123456789abcdef0123\nCP-2 fedcba9876543210fedc');
const RIGHT = '0123456789abcdef0123';
const ATTACKER = '127.0.0.2';

interface Refusal {
  identity: string;
  remoteAddress: string;
  status: number;
  reason: string;
}

describe('security: the password brake against a flood from one address', () => {
  const harness = useOcppHarness();
  let clock: ManualClock;
  let cs: CentralSystem;
  let refusals: Refusal[];
  /** Attempts the central system has decided on at least once: refused (now or later) or waiting. */
  let decided: number;
  const guess = (identity = 'CP-1', password = 'guess-guess-guess') =>
    attempt(`ws://127.0.0.1:${cs.port}/${identity}`, {
      localAddress: ATTACKER,
      ...basic(identity, password),
    });
  const checksOf = (identity: string) =>
    refusals.filter((r) => r.identity === identity && r.reason === 'wrong password').length;

  beforeEach(async () => {
    clock = new ManualClock();
    cs = await harness().centralSystem({
      securityProfile: 1,
      passwords: PASSWORDS,
      unknownChargePoints: 'reject',
      clock,
    });
    refusals = [];
    decided = 0;
    cs.on('refused', (refusal: Refusal) => {
      refusals.push(refusal);
      decided++;
    });
    cs.on('held', () => decided++);
  });

  /**
   * Sends attempts and waits until the central system has decided on each (every new attempt is
   * refused, at once or late, or waits: one event each; none of these gets in).
   */
  async function send(make: () => Attempt[]): Promise<Attempt[]> {
    const target = decided;
    const sent = make();
    const reached = new Promise<void>((resolve) => {
      const check = () => {
        if (decided < target + sent.length) return;
        cs.off('refused', check);
        cs.off('held', check);
        resolve();
      };
      cs.on('refused', check);
      cs.on('held', check);
      check();
    });
    await within(20_000, `${sent.length} attempts decided`, reached);
    await settle();
    return sent;
  }

  const junk = (count: number, from: number) =>
    Array.from({ length: count }, (_, i) => guess(`X-${from + i}`));

  it('answers a full address with 429 unchecked, also for an identity that has no gate yet', async () => {
    // 64 junk identities: 3 answered at once, then each checked once and answered late.
    const fillers = await send(() => junk(67, 0));
    assert.equal(fillers.filter((a) => !a.answered()).length, 64, 'the address holds 64 back');
    // CP-2 has never failed: no gate of its own. Even its right password is not compared.
    const wrong = await within(3000, 'the answer', guess('CP-2').status);
    const right = await within(3000, 'the answer', guess('CP-2', 'fedcba9876543210fedc').status);
    assert.deepEqual([wrong, right], [429, 429]);
    assert.equal(checksOf('CP-2'), 0, 'no password of CP-2 was compared');
    assert.match(
      refusals.at(-1)?.reason ?? '',
      /64 attempts from this address are already held back; not checked \(per-address brake\)/,
    );
    assert.equal(
      harness().log.matching(
        /"CP-2" from 127\.0\.0\.2: .*not checked \(per-address brake\) \(HTTP 429\)$/,
        'warn',
      ).length,
      2,
    );
    clock.advance(30_000);
    for (const a of fillers) assert.ok([401].includes(await a.status));
  });

  it('knows the charger’s own address after a restart: a flood from elsewhere does not hold it back', async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-brake-'));
    try {
      const first = await harness().centralSystem({
        securityProfile: 1,
        passwords: PASSWORDS,
        unknownChargePoints: 'reject',
        clock,
        dataDirectory,
      });
      const charger = rpcChargePoint(`ws://127.0.0.1:${first.port}`, 'CP-1', { password: RIGHT });
      await charger.connect();
      await charger.close();
      await first.stop();
      // Node-RED restarts; guesses for CP-1 from 20 addresses close its per-identity gate and fill
      // its line before the charger is back.
      const second = await harness().centralSystem({
        securityProfile: 1,
        passwords: PASSWORDS,
        unknownChargePoints: 'reject',
        clock,
        dataDirectory,
      });
      let held = 0;
      second.on('held', () => held++);
      let refused = 0;
      second.on('refused', () => refused++);
      const url = `ws://127.0.0.1:${second.port}/CP-1`;
      const flood = Array.from({ length: 20 }, (_, i) =>
        attempt(url, { localAddress: `127.0.1.${i + 1}`, ...basic('CP-1', 'guess-guess-guess') }),
      );
      await within(
        5000,
        'the flood decided',
        (async () => {
          while (held + refused < 20) await settle();
        })(),
      );
      assert.equal(held, 8, 'the line for CP-1 is full');
      // The charger, from the address it was accepted from before the restart, gets in at once.
      assert.equal(await within(3000, 'the charger', attempt(url, basic('CP-1', RIGHT)).status), 101);
      // From an address never seen, even the right password waits for its turn: the line is full, 429.
      const elsewhere = attempt(url, { localAddress: '127.0.0.9', ...basic('CP-1', RIGHT) });
      assert.equal(await within(3000, 'the answer', elsewhere.status), 429);
      clock.advance(60 * 60_000);
      await Promise.all(flood.map((a) => a.status));
    } finally {
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });

  for (const fillerCount of [72, 200]) {
    it(`checks 3,000 guesses for one charger with ${fillerCount} filler sockets no faster than the documented rate; the charger gets in from its own address`, async function () {
      this.timeout(120_000);
      // The charger was accepted from its own address before the flood.
      const before = rpcChargePoint(`ws://127.0.0.1:${cs.port}`, 'CP-1', { password: RIGHT });
      await before.connect();
      await before.close();
      const startMs = clock.now();
      const guesses: Attempt[] = [];
      const fillers: Attempt[] = [];
      let nextJunk = 0;
      for (let round = 0; round < 30; round++) {
        // The attacker keeps its address full: new filler sockets every 30 s of the clock.
        if (round % 3 === 0) {
          fillers.push(...(await send(() => junk(fillerCount, nextJunk))));
          nextJunk += fillerCount;
        }
        guesses.push(...(await send(() => Array.from({ length: 100 }, () => guess()))));
        if (round === 15) {
          // Mid-flood, the real charger reconnects from its own address with its password.
          const charger = rpcChargePoint(`ws://127.0.0.1:${cs.port}`, 'CP-1', { password: RIGHT });
          await within(5000, 'the charger connecting', charger.connect());
          await charger.close();
        }
        clock.advance(10_000);
        await settle();
      }
      // Everything held back is answered in the end, one gate opening at a time.
      for (let round = 0; round < 40 && [...guesses, ...fillers].some((a) => !a.answered()); round++) {
        clock.advance(30_000);
        await settle();
      }
      const elapsedMs = clock.now() - startMs;
      const checks = checksOf('CP-1');
      assert.ok(
        checks <= checksAllowedWithin(elapsedMs),
        `${checks} guesses checked in ${elapsedMs / 1000} s; the documented rate allows ${checksAllowedWithin(elapsedMs)}`,
      );
      assert.ok(checks >= 4, `the guesses were checked at all (${checks})`);
      const statuses = await Promise.all(guesses.map((a) => a.status));
      assert.equal(statuses.length, 3000);
      assert.equal(statuses.filter((s) => s === 401).length, checks);
      assert.equal(statuses.filter((s) => s === 429).length, 3000 - checks, 'every other guess: 429');
      // Every refusal of a guess that was not checked says so, and which brake turned it away.
      for (const r of refusals.filter((r) => r.identity === 'CP-1' && r.status === 429))
        assert.match(r.reason, /not checked/);
      assert.ok(
        harness().log.matching(
          /"CP-1" from 127\.0\.0\.2: wrong password \(HTTP 401.* by the per-(address|identity)/,
        ).length > 0,
      );
    });
  }
});
