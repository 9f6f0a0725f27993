import type { NodeStatus } from 'node-red';
import type { SiteSummary } from '../lib/dlm/summary';

/**
 * The one place that turns the load manager's state into the node status (text under 20
 * characters): what is wrong first (settings, overload, stale meters), else what charges.
 */
export function dlmStatus(state: { problem: string } | { summary: SiteSummary }): NodeStatus {
  if ('problem' in state) return { fill: 'red', shape: 'ring', text: 'settings error' };
  const { summary } = state;
  if (summary.circuits.some((c) => c.overloaded)) return { fill: 'red', shape: 'dot', text: 'overload' };
  if (summary.connectors.some((c) => c.overdrawing))
    return { fill: 'red', shape: 'ring', text: 'charger over limit' };
  const stale = summary.circuits.filter((c) => c.meter?.stale).length;
  if (stale > 0) return { fill: 'yellow', shape: 'ring', text: shorten(`fallback: ${stale} stale`) };
  const amps = Math.round(summary.totalLimitA);
  if (summary.charging === 0 && amps === 0) return { fill: 'grey', shape: 'dot', text: 'idle' };
  const text = `${summary.charging} charging, ${amps} A`;
  return {
    fill: 'green',
    shape: 'dot',
    text: text.length < 20 ? text : shorten(`${summary.charging} chg, ${amps} A`),
  };
}

function shorten(text: string): string {
  return text.length < 20 ? text : text.slice(0, 19);
}
