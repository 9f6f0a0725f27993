import type { RequestOf } from './charger201-wire';

/**
 * The device model of the OCPP 2.0.1 test charger (charger201.ts), from OCPP 2.0.1 part 2
 * appendix 3 alone: the variables it has, which are ReadOnly, and the values a variable takes.
 * Controllers with Enabled and Available (SmartChargingCtrlr, LocalAuthListCtrlr,
 * ReservationCtrlr), the phase rotation of the station (ChargingStation.PhaseRotation, to the
 * grid) and of each EVSE (EVSE.PhaseRotation, to the station), and each EVSE's AvailabilityState.
 */

type ReportData = NonNullable<RequestOf<'NotifyReport'>['reportData']>[number];

export interface DeviceVariable {
  value: string;
  readonly?: boolean;
}

/** The variables a charger with `evses` EVSEs starts with. */
export function defaultVariables(evses: number): Map<string, DeviceVariable> {
  const variables = new Map<string, DeviceVariable>([
    ['ChargingStation.PhaseRotation', { value: 'RST' }],
    ['OCPPCommCtrlr.HeartbeatInterval', { value: '60' }],
    ['SampledDataCtrlr.TxUpdatedInterval', { value: '60' }],
    ['SampledDataCtrlr.TxUpdatedMeasurands', { value: 'Energy.Active.Import.Register,Current.Import' }],
    ['SmartChargingCtrlr.Enabled', { value: 'true' }],
    ['SmartChargingCtrlr.Available', { value: 'true', readonly: true }],
    ['SmartChargingCtrlr.RateUnit', { value: 'A,W', readonly: true }],
    ['SmartChargingCtrlr.ProfileStackLevel', { value: '9', readonly: true }],
    ['SmartChargingCtrlr.PeriodsPerSchedule', { value: '24', readonly: true }],
    ['SmartChargingCtrlr.Entries', { value: '20', readonly: true }],
    ['SmartChargingCtrlr.Phases3to1', { value: 'false', readonly: true }],
    ['LocalAuthListCtrlr.Enabled', { value: 'true' }],
    ['LocalAuthListCtrlr.Available', { value: 'true', readonly: true }],
    ['LocalAuthListCtrlr.Entries', { value: '1000', readonly: true }],
    ['ReservationCtrlr.Enabled', { value: 'true' }],
    ['ReservationCtrlr.Available', { value: 'true', readonly: true }],
  ]);
  for (let id = 1; id <= evses; id++) {
    variables.set(`EVSE[${id}].AvailabilityState`, { value: 'Available', readonly: true });
    variables.set(`EVSE[${id}].PhaseRotation`, { value: 'RST' });
  }
  return variables;
}

export type Component = ReportData['component'];

/** A device-model variable's key in `variables`: `Component.Variable`, `EVSE[1].Variable`. */
export function variableKey(component: Component, variable: string): string {
  return `${component.name}${component.evse ? `[${component.evse.id}]` : ''}.${variable}`;
}

/** The component and variable a key of `variables` names. */
export function addressOf(key: string): { component: Component; variable: { name: string } } {
  const [, name = '', evse, variable = ''] = /^(\w+)(?:\[(\d+)\])?\.(\w+)$/.exec(key) ?? [];
  return {
    component: { name, ...(evse ? { evse: { id: Number(evse) } } : {}) },
    variable: { name: variable },
  };
}

/** OCPP 2.0.1 MeasurandEnumType: 1.6's measurands less Temperature and RPM, and a few more. */
const MEASURANDS_201 = new Set([
  'Current.Export',
  'Current.Import',
  'Current.Offered',
  'Energy.Active.Export.Register',
  'Energy.Active.Import.Register',
  'Energy.Reactive.Export.Register',
  'Energy.Reactive.Import.Register',
  'Energy.Active.Export.Interval',
  'Energy.Active.Import.Interval',
  'Energy.Active.Net',
  'Energy.Reactive.Export.Interval',
  'Energy.Reactive.Import.Interval',
  'Energy.Reactive.Net',
  'Energy.Apparent.Net',
  'Energy.Apparent.Import',
  'Energy.Apparent.Export',
  'Frequency',
  'Power.Active.Export',
  'Power.Active.Import',
  'Power.Factor',
  'Power.Offered',
  'Power.Reactive.Export',
  'Power.Reactive.Import',
  'SoC',
  'Voltage',
]);

/**
 * Whether a variable takes the value (B05, Set Variables: one of the wrong type or out of range is
 * Rejected): a measurand list (MemberList: items of MeasurandEnumType, commas without spaces), an
 * interval (a whole number of seconds, 0 or more); anything for the other variables.
 */
export function fitsVariable(variable: string, value: string): boolean {
  if (variable.endsWith('Measurands'))
    return value === '' || value.split(',').every((item) => MEASURANDS_201.has(item));
  if (variable.endsWith('Interval')) return /^\d+$/.test(value);
  return true;
}
