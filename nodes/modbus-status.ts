import type { NodeStatus } from 'node-red';
import type { MeterState } from '../lib/modbus/meter';
import type { ModbusBusNode } from './modbus-types';

/**
 * The one place that turns bus and meter states into node statuses (text under 20 characters).
 */
export function busStatus(busNode: ModbusBusNode | null | undefined): NodeStatus {
  if (!busNode) return { fill: 'red', shape: 'ring', text: 'no bus' };
  const bus = busNode.bus;
  if (busNode.problem || !bus) return { fill: 'red', shape: 'ring', text: 'settings error' };
  switch (bus.state) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'idle' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: 'connected' };
    case 'waiting':
      return { fill: 'red', shape: 'ring', text: 'reconnecting' };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
  }
}

/** Power as a short text: "950 W", "-3.55 kW". */
export function powerText(powerW: number): string {
  if (Math.abs(powerW) < 1000) return `${Math.round(powerW)} W`;
  return `${(powerW / 1000).toFixed(2)} kW`;
}

export interface MeterView {
  state: MeterState;
  stale: boolean;
  totalPowerW?: number | undefined;
  /** Short cause of the last failure: "timeout", "exception 2". */
  failure?: string | undefined;
}

export function meterStatus(
  busNode: ModbusBusNode | null | undefined,
  meter: MeterView | undefined,
): NodeStatus {
  const bus = busStatus(busNode);
  if (!meter || !busNode?.bus) return bus;
  if (meter.stale) {
    return {
      fill: 'red',
      shape: 'ring',
      text: busNode.bus.state === 'connected' ? 'stale' : `stale: ${bus.text}`,
    };
  }
  const reading = meter.totalPowerW === undefined ? 'ok' : powerText(meter.totalPowerW);
  switch (meter.state) {
    case 'ok':
      return { fill: 'green', shape: 'dot', text: reading };
    case 'partial':
      return { fill: 'yellow', shape: 'dot', text: `${reading} (partial)`.slice(0, 19) };
    case 'failing':
      if (busNode.bus.state !== 'connected') return bus;
      return { fill: 'yellow', shape: 'ring', text: (meter.failure ?? 'failing').slice(0, 19) };
    case 'starting':
      return busNode.bus.state === 'connected' ? { fill: 'grey', shape: 'ring', text: 'reading' } : bus;
    case 'stopped':
      return { fill: 'grey', shape: 'ring', text: 'stopped' };
  }
}
