/**
 * A car's count of phases from a meter that counts its charger: the one owner of that rule. A
 * charger read by its energy register alone gives power, not phases: 10.4 kW is a car at 15.1 A on
 * three phases or 22.7 A on two, and the register's draw is counted at the fewer (energy-draw.ts
 * mostA), 7.6 A a phase more than a car on three draws. Under a set-point the probe tells
 * (observer.ts energyProbe); a charger that refuses its limits has none, and its car was counted at
 * 32.8 A on every phase for its whole session beside two cars held at 0 A (issue 45's home day,
 * fleet mixed, seed 4242).
 *
 * A meter that counts the charger tells: on each phase it reads at least what that charger draws
 * there, beside what the other chargers below it surely draw (charger-draw.ts `surelyA`) and less
 * what may be generated below it. The circuits stage notes, per such charger, the most each phase
 * left it over each BUCKET_MS (`noteMeterRoom`); a register's delta whose count on fewer phases
 * puts more on one of them than the meter ever left it over the delta's interval is not that count
 * (the car drew at least its average at some moment of the interval, and the meter read every
 * moment of it: the most of the buckets it overlaps). The counts of fewer phases ruled out, the car
 * is on at least as many as the fewest left for the rest of the session (`energyFewestPhases`), on
 * every phase where that is all of them (`energyProbed: 'widest'`, as the probe says it). A load of the house only adds to what the meter reads: it may hide a count, never rule one
 * out wrongly; a meter that reads less than it carries would (one with generation below it that
 * nothing measures: not noted then).
 */
import { GRID_PHASES, type Triple, toGrid, triple } from '../phases';
import type { Connector } from '../site/model';
import { countCarries, type EnergyCount, type EnergyDraw, MAX_INTERVAL_MS } from './energy-draw';

/** The meter's room is kept as its most per phase over buckets this long, ms. */
export const BUCKET_MS = 10_000;

/** A count this much above what the meter left (A, and a fraction of the count) is ruled out. */
const RULED_OUT_A = 0.5;
const RULED_OUT = 0.02;

/** The most each grid phase of a meter left a charger from `fromMs` to `toMs`. */
export interface MeterRoom {
  fromMs: number;
  toMs: number;
  mostA: Triple;
}

/**
 * Notes what a meter that counts the charger read at `atMs` beyond what the other chargers below it
 * surely drew, per grid phase, generation below it added back (`roomA`): kept for MAX_INTERVAL_MS.
 */
export function noteMeterRoom(session: { meterRoom?: MeterRoom[] }, atMs: number, roomA: Triple): void {
  const rooms = session.meterRoom ?? [];
  session.meterRoom = rooms;
  const last = rooms[rooms.length - 1];
  if (last && atMs >= last.fromMs && atMs - last.fromMs < BUCKET_MS) {
    for (const p of GRID_PHASES) last.mostA[p] = Math.max(last.mostA[p], roomA[p]);
    last.toMs = Math.max(last.toMs, atMs);
  } else rooms.push({ fromMs: atMs, toMs: atMs, mostA: [...roomA] });
  while (rooms.length > 0 && (rooms[0]?.toMs ?? 0) < atMs - MAX_INTERVAL_MS) rooms.shift();
}

/**
 * The fewest phases the meter's room over a register delta's interval leaves its car: the count
 * after those of fewer phases it rules out (see the module comment), where it rules out the
 * fewest the delta allows; undefined where it rules out none, or its buckets do not cover the whole
 * interval (a meter stale for part of it tells nothing of that part).
 */
export function meterFewestPhases(
  connector: Connector,
  session: { meterRoom?: MeterRoom[] },
  energy: Pick<EnergyDraw, 'counts' | 'fromMs' | 'atMs'>,
): number | undefined {
  if (connector.phases !== 3 || connector.network === 'IT' || energy.counts.length < 2) return undefined;
  const rooms = (session.meterRoom ?? []).filter(
    (room) => room.toMs >= energy.fromMs && room.fromMs <= energy.atMs,
  );
  const first = rooms[0];
  const last = rooms[rooms.length - 1];
  if (!first || !last || first.fromMs > energy.fromMs + BUCKET_MS || last.toMs < energy.atMs - BUCKET_MS)
    return undefined;
  // Buckets apart by more than one: a gap the meter did not read.
  for (let i = 1; i < rooms.length; i++)
    if ((rooms[i]?.fromMs ?? 0) - (rooms[i - 1]?.toMs ?? 0) > BUCKET_MS) return undefined;
  const mostA = triple(0);
  for (const room of rooms) for (const p of GRID_PHASES) mostA[p] = Math.max(mostA[p], room.mostA[p]);
  const ruledOut = (count: EnergyCount) => {
    const on = (i: number) => (countCarries(connector, count.phases, i) ? 1 : 0);
    const carried = toGrid(connector, [on(0), on(1), on(2)]);
    return GRID_PHASES.some(
      (p) => (carried[p] ?? 0) > 0 && count.leastA > mostA[p] + RULED_OUT_A + RULED_OUT * count.leastA,
    );
  };
  const counts = [...energy.counts].sort((a, b) => a.phases - b.phases);
  let k = 0;
  while (k < counts.length - 1 && ruledOut(counts[k] as EnergyCount)) k++;
  return k > 0 ? counts[k]?.phases : undefined;
}
