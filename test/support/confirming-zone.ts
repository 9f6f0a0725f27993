import type { SiteConfig } from '../../lib/dlm/site';
import { harness } from '../unit/dlm/support';

/** The zone's three connectors. */
export const ZONE_KEYS = ['A/1', 'B/1', 'C/1'] as const;

export interface ConfirmingZoneOptions {
  /**
   * A zone meter that counts the chargers: each second it reads `otherLoadsA(tick)` (tick 0, 1, ...)
   * plus what the chargers draw. Absent: no zone meter.
   */
  meter?: { otherLoadsA: (tick: number) => number };
  control?: SiteConfig['control'];
}

/**
 * A 63 A zone with chargers A, B and C (32 A each, no unbalance limit) on the load manager's
 * harness (test/unit/dlm/support.ts), started, 3 s in, no car yet. Each charger confirms every new
 * limit at once (limitInForce, as the charging-profile manager says it) and, once it was given
 * current, draws its limit, until its car is `gone`.
 */
export function confirmingZone(options: ConfirmingZoneOptions = {}) {
  const { meter } = options;
  const h = harness({
    circuits: [
      {
        id: 'zone',
        limitA: 63,
        ...(meter ? { meter: { source: 'zone-meter', location: 'includesChargers' as const } } : {}),
      },
    ],
    connectors: ['A', 'B', 'C'].map((id) => ({ chargePointId: id, circuit: 'zone', maxA: 32 })),
    unbalanceLimitA: null,
    ...(options.control ? { control: options.control } : {}),
  });
  const confirmed = new Map<string, number>();
  /** Cars that left: their chargers report nothing more from the feeder. */
  const gone = new Set<string>();
  let tick = 0;
  h.feed(() => {
    let chargers = 0;
    for (const key of ZONE_KEYS) {
      if (gone.has(key)) continue;
      const limit = h.limit(key) ?? 0;
      if (confirmed.get(key) !== limit) {
        confirmed.set(key, limit);
        h.state(key, { limitInForce: { limitA: limit, since: h.iso(), confirmedAt: h.iso() } });
      }
      if (!h.sentTo(key).some((s) => s.limitA > 0)) continue;
      h.draw(key, [limit, limit, limit], limit > 0 ? 'Charging' : 'SuspendedEVSE');
      chargers += limit;
    }
    if (!meter) return;
    const amps = meter.otherLoadsA(tick++) + chargers;
    h.meter('zone-meter', [amps, amps, amps]);
  });
  h.start();
  h.run(3_000);
  return {
    h,
    gone,
    /** C's car leaves: its transaction ends with EVDisconnected and its charger reports no more. */
    leaveC() {
      gone.add('C/1');
      h.state('C/1', {
        transaction: undefined,
        currentA: undefined,
        lastStop: { transactionId: 3, reason: 'EVDisconnected', at: h.iso() },
      });
    },
  };
}
