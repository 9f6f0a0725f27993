import assert from 'node:assert/strict';
import type { LoadManagerMemory } from '../../../lib/dlm/load-manager';
import type { SiteConfig } from '../../../lib/dlm/site';
import { home, wallbox } from './pv-home';
import { harness } from './support';

const HOUR = 3_600_000;

/** A store as the node's file keeps it: JSON in, JSON out. */
function keptInMemory() {
  let kept: unknown;
  return {
    get kept() {
      return kept as LoadManagerMemory | undefined;
    },
    load: () => (kept === undefined ? undefined : JSON.parse(JSON.stringify(kept))),
    save: (m: LoadManagerMemory) => {
      kept = JSON.parse(JSON.stringify(m));
    },
  };
}

/**
 * Issue 48: what the flow told the load manager (a plan, a price list, a mode set by message) and a
 * pv car's timers survive a restart (the node's restart and full deploy read the same record back:
 * test/nodes/dlm-kept-state_spec.ts); what no longer means anything is dropped with a line naming it.
 */
describe('what the load manager keeps across a restart', () => {
  const site: SiteConfig = {
    circuits: [{ id: 'home', limitA: 25, fallback: { otherLoadA: 5 } }],
    connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'fast' }],
  };
  let stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
  });
  /** Started with the car's transaction known from the start (the central system feeds it at once). */
  function started(options: Parameters<typeof harness>[1], transactionId?: number) {
    const h = harness(site, options);
    if (transactionId !== undefined) h.plugIn('WB-1/1', { transactionId });
    h.start();
    stops.push(() => h.stop());
    return h;
  }

  it('takes back a plan, a price list and a mode set by message; drops a passed plan and an ended list, naming them', () => {
    const memory = keptInMemory();
    const before = started({ memory }, 1);
    const t = before.clock.now();
    before.manager.command({ type: 'mode', chargePointId: 'WB-1', mode: 'price' });
    before.manager.command({
      type: 'prices',
      prices: [0.3, 0.1].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
    });
    before.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 5, departure: t + 2 * HOUR });
    assert.equal(memory.kept?.version, 1, 'written at once, in its versioned shape');
    before.run(5_000);
    assert.match(before.setPoint('WB-1/1')?.reason ?? '', /^next: .*0\.10\/kWh.*; 5\.0 kWh planned/);

    // A crash (no stop) ten minutes later: the commands were written as they came.
    const after = started({ memory, startMs: t + 600_000 }, 1);
    after.run(5_000);
    assert.equal(after.limit('WB-1/1'), 0, 'not charging at 0.30 while 0.10 comes');
    assert.match(after.setPoint('WB-1/1')?.reason ?? '', /^next: .*0\.10\/kWh.*; 5\.0 kWh planned/);
    assert.equal(after.manager.summary().connectors[0]?.mode, 'price');
    assert.ok(
      after.logged.some((l) => /^info: prices kept from before the restart taken back: 2 slots/.test(l)),
    );
    assert.ok(
      after.logged.some((l) =>
        /^info: plan of WB-1\/1 kept from before the restart taken back: 5 kWh by/.test(l),
      ),
    );
    assert.ok(
      after.logged.some(
        (l) => l === 'info: mode price of WB-1/1 set by message before the restart taken back',
      ),
    );
    after.stop();

    // Three hours on: the departure passed and the list ended; the mode still holds.
    const late = started({ memory, startMs: t + 3 * HOUR }, 1);
    late.run(5_000);
    const dropped = late.logged.filter((l) => l.startsWith('warn: '));
    assert.deepEqual(
      dropped.map((l) => l.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')),
      [
        'warn: prices kept from before the restart dropped: the list (received <time>) ends <time>, before now; send the list from now on',
        'warn: plan of WB-1/1 kept from before the restart dropped: its departure <time> is past',
      ],
    );
    assert.equal(late.manager.summary().prices, undefined);
    assert.match(
      late.setPoint('WB-1/1')?.reason ?? '',
      /^price: no plan and no price limit, PV surplus only/,
    );
  });

  it('keeps the price limit of a plan whose departure passed, saying the energy was dropped', () => {
    const memory = keptInMemory();
    const before = started({ memory }, 1);
    const t = before.clock.now();
    before.manager.command({ type: 'mode', chargePointId: 'WB-1', mode: 'price' });
    before.manager.command({
      type: 'plan',
      chargePointId: 'WB-1',
      energyKWh: 5,
      departure: t + HOUR,
      priceLimit: 0.15,
    });
    const late = started({ memory, startMs: t + 2 * HOUR }, 1);
    late.run(2_000);
    assert.ok(
      late.logged.some((l) =>
        /^warn: plan of WB-1\/1 kept from before the restart: its departure .* is past, its energy dropped; its price limit is kept$/.test(
          l,
        ),
      ),
    );
    assert.match(late.setPoint('WB-1/1')?.reason ?? '', /^no price known now \(limit 0\.15\/kWh\)/);
  });

  it('reads a record without a version (0.1.0) and refuses a newer one with a word, never misreading it', () => {
    const old = { otherLoadPeaks: undefined, responseTimes: undefined };
    const h = started({ memory: { load: () => old, save: () => {} } });
    assert.deepEqual(
      h.logged.filter((l) => l.startsWith('warn')),
      [],
    );
    const newer = started({
      memory: {
        load: () => ({ version: 2, modes: { preferences: { 'WB-1/1': { mode: 'off' } } } }),
        save: () => {},
      },
    });
    assert.deepEqual(newer.logged, [
      "warn: the load manager's kept state: saved by a newer release of ampflow (version 2; this one reads up to 1): update the package before deploying this flow; not read, the load manager starts anew",
    ]);
    newer.plugIn('WB-1/1');
    newer.run(2_000);
    assert.equal(newer.manager.summary().connectors[0]?.mode, 'fast');
  });

  /** A home with one wallbox on `memory`, its pv car (transaction 1) plugged in after the start. */
  function pvHomeFirst(memory: ReturnType<typeof keptInMemory>) {
    const first = home([wallbox('WB-1')], {}, 'includesChargers', { memory });
    first.h.start();
    stops.push(() => first.h.stop());
    first.h.plugIn('WB-1/1');
    first.world.pvW = 8000;
    return first;
  }

  /** The same home back `gapMs` after `before` stopped, with transaction `transactionId` known at once. */
  function pvHomeAgain(
    memory: ReturnType<typeof keptInMemory>,
    before: ReturnType<typeof home>,
    gapMs: number,
    transactionId: number,
  ) {
    const again = home([wallbox('WB-1')], {}, 'includesChargers', {
      memory,
      startMs: before.h.clock.now() + gapMs,
    });
    again.h.plugIn('WB-1/1', { transactionId });
    again.h.start();
    stops.push(() => again.h.stop());
    return again;
  }

  it("keeps a pv car's wait for the surplus across a restart: it waits what was left of its minute, not a new one", () => {
    const memory = keptInMemory();
    const before = pvHomeFirst(memory);
    before.h.run(40_000);
    assert.equal(before.h.limit('WB-1/1'), 0, 'still waiting');
    before.h.stop();
    // A full deploy: back 3 s later, the same transaction.
    const after = pvHomeAgain(memory, before, 3_000, 1);
    after.world.pvW = 8000;
    after.h.run(10_000);
    assert.equal(after.h.limit('WB-1/1'), 0, 'not at once either');
    after.h.run(15_000);
    assert.ok((after.h.limit('WB-1/1') ?? 0) >= 6, 'started about 20 s after the restart, not 60 s');
    assert.ok(
      after.h.logged.some((l) =>
        /^info: PV timers of WB-1\/1 \(tx:1\) kept from before the restart taken back, moved on by the \d+ s/.test(
          l,
        ),
      ),
    );
  });

  it('keeps what clouds cost a pv car across a restart, and drops the timers of a car that left', () => {
    const memory = keptInMemory();
    const before = pvHomeFirst(memory);
    before.h.run(200_000);
    before.world.pvW = 300;
    before.h.run(120_000);
    assert.equal(before.h.limit('WB-1/1'), 0, 'a dip stopped it');
    before.world.pvW = 8000;
    before.h.run(10_000);
    const put =
      /clouds stopped it 1 time, so it starts once the surplus beyond its minimum has put by 69 Wh \((\d+) Wh so far\)/;
    const so = Number(put.exec(before.h.setPoint('WB-1/1')?.reason ?? '')?.[1]);
    assert.ok(so > 0, 'put by some');
    before.h.stop();
    const after = pvHomeAgain(memory, before, 2_000, 1);
    after.world.pvW = 8000;
    after.h.run(2_000);
    const again = Number(put.exec(after.h.setPoint('WB-1/1')?.reason ?? '')?.[1]);
    assert.ok(again >= so, `what it put by kept (${so} Wh before, ${again} Wh after)`);
    after.h.stop();
    // Another car after the next restart: the timers were the last car's.
    const other = pvHomeAgain(memory, after, 2_000, 7);
    other.h.run(2_000);
    assert.ok(
      other.h.logged.includes(
        'warn: PV timers of WB-1/1 kept from before the restart dropped: another car now (tx:7; kept for tx:1)',
      ),
    );
    assert.doesNotMatch(other.h.setPoint('WB-1/1')?.reason ?? '', /clouds stopped it/);
  });
});
