import { KEY_VARIABLES } from './device-model';

/**
 * A reason written in OCPP 1.6's words (what the charging-profile manager says of a limit, a
 * refusal, an offline fallback) in OCPP 2.0.1's, for a 2.0.1 station: its purposes and messages
 * by their 2.0.1 names (ChargePointMaxProfile is ChargingStationMaxProfile, RemoteStartTransaction
 * is RequestStartTransaction, ...), a configuration key by the device-model variable that holds it
 * (ChargeProfileMaxStackLevel is SmartChargingCtrlr.ProfileStackLevel, device-model.ts), and a
 * connector by its EVSE. Whole words only; a text without 1.6 names comes back as it is.
 */
const RENAMES: readonly (readonly [RegExp, string])[] = [
  [/\bChargePointMaxProfile\b/g, 'ChargingStationMaxProfile'],
  [/\bRemoteStartTransaction\b/g, 'RequestStartTransaction'],
  [/\bRemoteStopTransaction\b/g, 'RequestStopTransaction'],
  [/\bGetConfiguration\b/g, 'GetVariables'],
  [/\bChangeConfiguration\b/g, 'SetVariables'],
  [/\bGetDiagnostics\b/g, 'GetLog'],
  [/\bconnector (\d+)/g, 'EVSE $1'],
  ...Object.entries(KEY_VARIABLES).map(
    ([key, place]) =>
      [
        new RegExp(`\\b${key}\\b`, 'g'),
        `${place.component}.${place.variable}${place.instance ? `[${place.instance}]` : ''}`,
      ] as const,
  ),
];

export function in201Words(text: string): string {
  let out = text;
  for (const [pattern, name] of RENAMES) out = out.replace(pattern, name);
  return out;
}
