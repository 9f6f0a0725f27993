import type { Node, NodeDef } from 'node-red';
import type { ModbusBus } from '../lib/modbus/bus';
import type { BusSettingsInput, MeterSettingsInput } from '../lib/modbus/settings';

/** A node that reads through a Modbus bus and shows the bus's state in its own status. */
export interface ModbusBusUser {
  refreshStatus(): void;
}

/** The runtime object of an `ampflow-modbus-bus` config node, as meter nodes see it. */
export interface ModbusBusNode extends Node {
  /** Undefined when the settings are invalid (`problem` says why). */
  bus?: ModbusBus;
  /** Unit id for meters that set none. */
  defaultUnitId: number;
  problem?: string;
  /** Opens the bus for its first user. */
  register(user: ModbusBusUser): void;
  /** Closes the bus when its last user goes. */
  deregister(user: ModbusBusUser): void;
}

/** Settings of an `ampflow-modbus-bus` node as the editor saves them. */
export interface ModbusBusNodeDef extends NodeDef, BusSettingsInput {
  transport: 'tcp' | 'rtu' | 'rtu-over-tcp';
}

/** One row of the custom-register table. */
export interface CustomRegisterRow {
  measurand: string;
  address: string | number;
  type: string;
  unit: string;
  scale?: string | number;
  direction?: string;
}

/** Settings of an `ampflow-meter` node as the editor saves them. */
export interface MeterNodeDef extends NodeDef, MeterSettingsInput {
  /** The config node's id. */
  bus: string;
  customRegisters?: CustomRegisterRow[];
}
