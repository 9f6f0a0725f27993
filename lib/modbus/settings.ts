import { ConfigError, parseChoice, parseNumber, parsePort } from '../config-error';
import type { BusOptions } from './bus';
import type { BusTransport } from './connection';
import { type MeterOptions, MIN_POLL_INTERVAL_MS } from './meter';
import { findProfile, parseCustomProfile, parseProfileJson } from './profiles';
import type { DeviceProfile } from './types';

/** A bus's settings as the editor saves them (text or numbers). */
export interface BusSettingsInput {
  transport?: unknown;
  host?: unknown;
  port?: unknown;
  serialPath?: unknown;
  baudRate?: unknown;
  dataBits?: unknown;
  parity?: unknown;
  stopBits?: unknown;
  unitId?: unknown;
  timeoutMs?: unknown;
  interFrameDelayMs?: unknown;
  /** RTU framing: silence after a timeout before the next request; empty = automatic. */
  drainAfterTimeoutMs?: unknown;
  pauseAfterConnectMs?: unknown;
  maxQueueLength?: unknown;
}

export type BusSettings = Pick<
  BusOptions,
  | 'name'
  | 'transport'
  | 'timeoutMs'
  | 'interFrameDelayMs'
  | 'drainAfterTimeoutMs'
  | 'pauseAfterConnectMs'
  | 'maxQueueLength'
> & {
  /** Unit id for meters that set none. */
  defaultUnitId: number;
};

const TRANSPORTS = ['tcp', 'rtu', 'rtu-over-tcp'] as const;

function optional(value: unknown): boolean {
  return value !== undefined && value !== null && String(value).trim() !== '';
}

type NumberRange = Parameters<typeof parseNumber>[2];

/** A response timeout, bus-wide or a meter's own. */
const TIMEOUT_MS: NumberRange = { fallback: 1000, min: 50, max: 60000, unit: 'ms' };
const MS_UP_TO_A_MINUTE: NumberRange = { fallback: 0, min: 0, max: 60000, unit: 'ms' };

/** A number setting that may be left empty: then it is left out (its default applies). */
function optionalNumber<F extends string>(
  field: F,
  value: unknown,
  range: NumberRange,
  given = optional(value),
): Partial<Record<F, number>> {
  return given ? ({ [field]: parseNumber(field, value, range) } as Record<F, number>) : {};
}

/** Checks a bus's settings; errors name the editor field. */
export function parseBusSettings(name: string, input: BusSettingsInput): BusSettings {
  const kind = parseChoice('transport', input.transport, TRANSPORTS, 'tcp');
  let transport: BusTransport;
  if (kind === 'rtu') {
    const path = typeof input.serialPath === 'string' ? input.serialPath.trim() : '';
    if (!path) throw new ConfigError('serialPath', 'name the serial port (e.g. /dev/ttyUSB0)');
    transport = {
      kind,
      path,
      baudRate: parseNumber('baudRate', input.baudRate, {
        fallback: 9600,
        min: 300,
        max: 921600,
        integer: true,
      }),
      dataBits: Number(parseChoice('dataBits', String(input.dataBits ?? ''), ['7', '8'], '8')) as 7 | 8,
      parity: parseChoice('parity', input.parity, ['none', 'even', 'odd'] as const, 'none'),
      stopBits: Number(parseChoice('stopBits', String(input.stopBits ?? ''), ['1', '2'], '1')) as 1 | 2,
    };
  } else {
    const host = typeof input.host === 'string' ? input.host.trim() : '';
    if (!host) throw new ConfigError('host', 'name the device or gateway (host name or IP address)');
    transport = { kind, host, port: parsePort('port', input.port, 502) };
  }
  return {
    name,
    transport,
    defaultUnitId: parseNumber('unitId', input.unitId, { fallback: 1, min: 0, max: 255, integer: true }),
    timeoutMs: parseNumber('timeoutMs', input.timeoutMs, TIMEOUT_MS),
    pauseAfterConnectMs: parseNumber('pauseAfterConnectMs', input.pauseAfterConnectMs, MS_UP_TO_A_MINUTE),
    maxQueueLength: parseNumber('maxQueueLength', input.maxQueueLength, {
      fallback: 200,
      min: 1,
      max: 10000,
      integer: true,
    }),
    // Spaces alone are refused here (not a number), unlike the other optional fields.
    ...optionalNumber(
      'interFrameDelayMs',
      input.interFrameDelayMs,
      { fallback: 0, min: 0, max: 10000, unit: 'ms' },
      input.interFrameDelayMs !== undefined &&
        input.interFrameDelayMs !== null &&
        input.interFrameDelayMs !== '',
    ),
    ...optionalNumber('drainAfterTimeoutMs', input.drainAfterTimeoutMs, MS_UP_TO_A_MINUTE),
  };
}

/** A meter's settings as the editor saves them. */
export interface MeterSettingsInput {
  /** A shipped profile's id, `custom` (register table) or `json`. */
  profile?: unknown;
  unitId?: unknown;
  pollIntervalS?: unknown;
  staleAfterS?: unknown;
  timeoutMs?: unknown;
  phase?: unknown;
  maxRegistersPerRequest?: unknown;
  customFunctionCode?: unknown;
  customWordOrder?: unknown;
  customPowerSign?: unknown;
  customPhases?: unknown;
  customReadable?: unknown;
  customRegisters?: unknown;
  profileJson?: unknown;
}

/** Named as the Meter's options, so a meter node hands them on as they are. */
export type MeterSettings = Required<Pick<MeterOptions, 'profile' | 'unitId' | 'pollIntervalMs' | 'phase'>> &
  Pick<MeterOptions, 'staleAfterMs' | 'timeoutMs' | 'maxRegistersPerRequest'>;

/** Checks a meter's settings; `busUnitId` is the bus's default unit id. */
export function parseMeterSettings(input: MeterSettingsInput, busUnitId: number): MeterSettings {
  const id = typeof input.profile === 'string' ? input.profile : '';
  let profile: DeviceProfile;
  if (id === 'custom') {
    profile = parseCustomProfile({
      functionCode: input.customFunctionCode,
      wordOrder: input.customWordOrder,
      powerSign: input.customPowerSign,
      phases: input.customPhases,
      readable: input.customReadable,
      registers: input.customRegisters,
    });
  } else if (id === 'json') {
    profile = parseProfileJson(typeof input.profileJson === 'string' ? input.profileJson : '');
  } else {
    const found = findProfile(id);
    if (!found) throw new ConfigError('profile', `"${id}" is not a known meter profile`);
    profile = found;
  }
  const pollIntervalS = parseNumber('pollIntervalS', input.pollIntervalS, {
    fallback: 1,
    min: 0,
    max: 86400,
    unit: 's',
  });
  if (pollIntervalS > 0 && pollIntervalS * 1000 < MIN_POLL_INTERVAL_MS) {
    throw new ConfigError(
      'pollIntervalS',
      `${pollIntervalS} s is shorter than 0.2 s (0 reads only on demand)`,
    );
  }
  const settings: MeterSettings = {
    profile,
    unitId: parseNumber('unitId', input.unitId, {
      fallback: profile.defaults?.unitId ?? busUnitId,
      min: 0,
      max: 255,
      integer: true,
    }),
    pollIntervalMs: Math.round(pollIntervalS * 1000),
    phase: Number(parseChoice('phase', String(input.phase ?? ''), ['1', '2', '3'], '1')) as 1 | 2 | 3,
  };
  if (optional(input.staleAfterS)) {
    settings.staleAfterMs = Math.round(
      parseNumber('staleAfterS', input.staleAfterS, { fallback: 0, min: 0, max: 86400, unit: 's' }) * 1000,
    );
  }
  return {
    ...settings,
    ...optionalNumber('timeoutMs', input.timeoutMs, TIMEOUT_MS),
    ...optionalNumber('maxRegistersPerRequest', input.maxRegistersPerRequest, {
      fallback: 125,
      min: 1,
      max: 125,
      integer: true,
    }),
  };
}
