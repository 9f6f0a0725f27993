import type { NodeStatus } from 'node-red';
import type { BusState } from '../lib/modbus/bus';
import { ModbusRequestError } from '../lib/modbus/errors';
import type { MeterReadError, MeterState } from '../lib/modbus/meter';
import type { ModbusBusNode } from './modbus-types';
import { message } from './shared/i18n';
import { type StateOf, statusOf } from './shared/status-table';

/** What a meter shows of each state of its bus: waiting to reconnect is a lost connection to users. */
const BUS_STATES: Record<BusState, StateOf<'ampflow-modbus-bus'>> = {
  idle: 'idle',
  connecting: 'connecting',
  connected: 'connected',
  waiting: 'reconnecting',
  closed: 'closed',
};

/** Which state of its bus a meter node shows (the look and text are the status table's). */
export function busStatus(busNode: ModbusBusNode | null | undefined): NodeStatus {
  if (!busNode) return statusOf('ampflow-modbus-bus', 'noBus');
  const bus = busNode.bus;
  if (busNode.problem || !bus) return statusOf('ampflow-modbus-bus', 'settingsError');
  return statusOf('ampflow-modbus-bus', BUS_STATES[bus.state]);
}

/** Power as a short text: "950 W", "-3.55 kW". */
export function powerText(powerW: number): string {
  if (Math.abs(powerW) < 1000) return `${Math.round(powerW)} W`;
  return `${(powerW / 1000).toFixed(2)} kW`;
}

/** "timeout", "exception 2", "queue full": what the status shows of a failed read. */
export function shortFailure(error: MeterReadError | undefined): string | undefined {
  if (!error) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ModbusRequestError)) return message('ampflow-meter', 'failures.read');
  return message('ampflow-meter', `failures.${cause.failure}`, { code: String(cause.exceptionCode) });
}

export interface MeterView {
  state: MeterState;
  stale: boolean;
  totalPowerW?: number | undefined;
  /** Short cause of the last failure (`shortFailure`): "timeout", "exception 2". */
  failure?: string | undefined;
  /** A load manager does not believe its readings (why, in words). */
  implausible?: string | undefined;
}

/** Which state of a meter and its bus the meter node shows (the look and text are the status table's). */
export function meterStatus(
  busNode: ModbusBusNode | null | undefined,
  meter: MeterView | undefined,
): NodeStatus {
  const bus = busStatus(busNode);
  if (!meter || !busNode?.bus) return bus;
  if (meter.implausible && !meter.stale) return statusOf('ampflow-meter', 'implausible');
  if (meter.stale) {
    return busNode.bus.state === 'connected'
      ? statusOf('ampflow-meter', 'stale')
      : statusOf('ampflow-meter', 'staleBus', { bus: bus.text ?? '' });
  }
  switch (meter.state) {
    case 'ok':
      return meter.totalPowerW === undefined
        ? statusOf('ampflow-meter', 'ok')
        : statusOf('ampflow-meter', 'measured', { power: powerText(meter.totalPowerW) });
    case 'partial': {
      const reading =
        meter.totalPowerW === undefined
          ? message('ampflow-meter', 'status.ok')
          : powerText(meter.totalPowerW);
      return statusOf('ampflow-meter', 'partial', { reading });
    }
    case 'failing':
      if (busNode.bus.state !== 'connected') return bus;
      return meter.failure === undefined
        ? statusOf('ampflow-meter', 'failing')
        : statusOf('ampflow-meter', 'failure', { failure: meter.failure });
    case 'starting':
      return busNode.bus.state === 'connected' ? statusOf('ampflow-meter', 'reading') : bus;
    case 'stopped':
      return statusOf('ampflow-meter', 'stopped');
  }
}
