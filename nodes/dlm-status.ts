import type { NodeStatus } from 'node-red';
import type { SiteSummary } from '../lib/dlm/report/summary';
import { fits, statusIfFits, statusOf } from './shared/status-table';

/**
 * Which state of the load manager its node shows (the look and text are the status table's):
 * what is wrong first (settings, overload, stale meters, a meter not read yet), else what charges.
 */
export function dlmStatus(state: { problem: string } | { summary: SiteSummary }): NodeStatus {
  if ('problem' in state) return statusOf('ampflow-dlm', 'settingsError');
  const { summary } = state;
  if (summary.circuits.some((c) => c.overloaded)) return statusOf('ampflow-dlm', 'overload');
  if (summary.connectors.some((c) => c.overdrawing)) return statusOf('ampflow-dlm', 'overLimit');
  // A charger whose reading was impossible this session (evidence/meter-plausibility.ts): its fault.
  if (summary.connectors.some((c) => c.refusedReading)) return statusOf('ampflow-dlm', 'readingRefused');
  // A meter that never sent a reading is waited for: nothing is known of its circuit's other
  // loads, whose connectors wait for it (what is reserved there counts for nothing yet).
  const blind = summary.circuits.filter((c) => c.meter?.stale);
  const neverRead = blind.filter((c) => c.meter?.ageMs === undefined && !c.meter?.implausible).length;
  if (neverRead > 0 && neverRead === blind.length) return statusOf('ampflow-dlm', 'waiting');
  const full = summary.circuits.find((c) => c.fullOfReservations);
  if (full) {
    const amps = Math.round(Math.max(...(full.reservedA ?? [0])));
    const reserved = statusIfFits('ampflow-dlm', 'reserved', { amps });
    if (fits(reserved.text)) return reserved;
  }
  if (blind.length > 0) return statusOf('ampflow-dlm', 'fallback', { stale: blind.length });
  // If ampflow stopped now, the chargers' fallbacks and the other loads would not fit (issue 36).
  const unfit = summary.circuits.find((c) => c.offline && !c.offline.fits);
  if (unfit?.offline) {
    const { totalA, availableA } = unfit.offline;
    const status = statusIfFits('ampflow-dlm', 'offlineUnfit', {
      total: Math.round(totalA),
      available: Math.round(availableA),
    });
    if (fits(status.text)) return status;
  }
  const amps = Math.round(summary.totalLimitA);
  if (summary.charging === 0 && amps === 0) return statusOf('ampflow-dlm', 'idle');
  return statusOf('ampflow-dlm', 'charging', { charging: summary.charging, amps });
}
