import { ConfigError, parseChoice, parseNumber } from '../config-error';
import { CENTRAL_SYSTEM_ACTIONS, type CentralSystemAction } from '../ocpp/actions';
import { isHexUid, reverseByteOrder } from '../ocpp/id-tags';
import { readPem } from '../ocpp/transport';
import { isCsmsAction201 } from '../ocpp/v201/schemas';
import { type ChargerCredentials, readRegistrations } from './registrations';

/**
 * The settings of the upstream proxy (keep the operator's backend): where each charger's upstream
 * is, how ampflow speaks to it as that charger, who decides what, and what the upstream may not do.
 */

/** The charger's requests whose answer somebody must decide (the others are answered the same by anyone). */
export const DECIDED_ACTIONS = [
  'BootNotification',
  'Authorize',
  'StartTransaction',
  'StopTransaction',
  'DataTransfer',
] as const;
export type DecidedAction = (typeof DECIDED_ACTIONS)[number];

/**
 * `upstream`: the upstream's answer goes to the charger while it is reachable and has nothing
 * queued; else ampflow answers and the request goes upstream later. `local`: ampflow answers, the
 * upstream is told afterwards.
 */
export type Decider = 'upstream' | 'local';

export type IdTagCase = 'asIs' | 'upper' | 'lower';

/**
 * The backend's SetChargingProfile and ClearChargingProfile: `compose` keeps them in ampflow and the
 * load manager never gives a connector more than they allow (needs the load manager and the
 * charging-profile manager); `forward` passes them to the charger as they are (a site without
 * ampflow's load management); `refuse` answers NotSupported.
 */
export type SmartChargingMode = 'compose' | 'forward' | 'refuse';

export interface UpstreamSettings {
  /** `ws://` or `wss://` URL; `{identity}` at its end (or nothing: the identity is appended, OCPP-J 1.6 §3.1). */
  url: string;
  /** The chargers' upstream password (Basic auth, security profiles 1 and 2); a credential. */
  password?: string;
  /** TLS: the operator's CA, and a client certificate and key for security profile 3 (PEM). */
  tls?: { ca?: string; cert?: string; key?: string };
  /**
   * Chargers registered at the backend with their own password and/or client certificate (the
   * backend's registration list); a charger not listed, or without one of them, uses the above.
   */
  chargers?: Record<string, ChargerCredentials>;
  decide: Record<DecidedAction, Decider>;
  /** The upstream's commands that are refused (answered NotSupported, never sent to the charger). */
  refuse: string[];
  smartCharging: SmartChargingMode;
  /**
   * `listed`: a tag in ampflow's own id-tag list (staff cards) is decided by ampflow, whoever
   * decides the others; its StartTransaction still goes to the backend afterwards. `none`: no tag.
   */
  localTags: 'none' | 'listed';
  /** Configuration keys the upstream may not change (ampflow relies on them): refused with Rejected. */
  protectedKeys: string[];
  /**
   * Configuration keys the upstream may change, after which ampflow puts the charger's previous
   * value back (for a backend that treats Rejected as a fault); each such conflict is logged once.
   * A key listed here is not refused even if `protectedKeys` lists it too.
   */
  reassertKeys: string[];
  /** How id tags are spelt for the upstream (some providers want upper case). */
  idTagCase: IdTagCase;
  /** `reversed`: an RFID UID (hex) goes upstream with its bytes in the other order (0A0E9B83 → 839B0E0A). */
  idTagByteOrder: 'asIs' | 'reversed';
  /** How long a charger's request waits for the upstream's decision before ampflow decides (ms). */
  decideWithinMs: number;
  callTimeoutMs: number;
  pingIntervalMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
}

/** Keys the load manager and the charging-profile manager rely on. */
export const DEFAULT_PROTECTED_KEYS: readonly string[] = [
  'MeterValueSampleInterval',
  'MeterValuesSampledData',
  'ClockAlignedDataInterval',
  'ChargeProfileMaxStackLevel',
  'maxIntensitySocket',
];

/**
 * `decideWithinMs`: 8 s, under EVlink's default authentication timeout (10 s), so ampflow's own
 * answer reaches a charger that gives up after 10 s when the backend does not decide in time.
 */
export const UPSTREAM_DEFAULTS = {
  decideWithinMs: 8_000,
  callTimeoutMs: 30_000,
  pingIntervalMs: 30_000,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
} as const;

/** Reads the settings as typed in the editor or on the command line; errors name the field. */
export function parseUpstreamSettings(raw: Record<string, unknown>): UpstreamSettings {
  const url = String(raw.url ?? '').trim();
  upstreamEndpoint(url);
  const decide = Object.fromEntries(DECIDED_ACTIONS.map((action) => [action, 'upstream'])) as Record<
    DecidedAction,
    Decider
  >;
  const given = (raw.decide ?? {}) as Record<string, unknown>;
  for (const [action, decider] of Object.entries(given)) {
    if (!(DECIDED_ACTIONS as readonly string[]).includes(action)) {
      throw new ConfigError(`upstream.decide.${action}`, `not one of ${DECIDED_ACTIONS.join(', ')}`);
    }
    decide[action as DecidedAction] = parseChoice<Decider>(
      `upstream.decide.${action}`,
      decider,
      ['upstream', 'local'],
      'upstream',
    );
  }
  const refuse = list(raw.refuse, 'upstream.refuse', []);
  for (const action of refuse) {
    if (!(CENTRAL_SYSTEM_ACTIONS as readonly string[]).includes(action) && !isCsmsAction201(action)) {
      throw new ConfigError(
        'upstream.refuse',
        `${action} is not a command a central system sends (OCPP 1.6 or 2.0.1)`,
      );
    }
  }
  const smartCharging = parseChoice<SmartChargingMode>(
    'upstream.smartCharging',
    raw.smartCharging,
    ['compose', 'forward', 'refuse'],
    'compose',
  );
  const localTags = parseChoice('upstream.localTags', raw.localTags, ['none', 'listed'] as const, 'none');
  const idTagCase = parseChoice<IdTagCase>(
    'upstream.idTagCase',
    raw.idTagCase,
    ['asIs', 'upper', 'lower'],
    'asIs',
  );
  const idTagByteOrder = parseChoice(
    'upstream.idTagByteOrder',
    raw.idTagByteOrder,
    ['asIs', 'reversed'] as const,
    'asIs',
  );
  const password = raw.password === undefined || raw.password === '' ? undefined : String(raw.password);
  const pem = (field: string, value: unknown, secret = false) =>
    typeof value === 'string' && value.trim() !== ''
      ? readPem(`upstream.${field}`, value, { secret }).toString('utf8')
      : undefined;
  const ca = pem('tlsCa', raw.tlsCa);
  const cert = pem('tlsCertificate', raw.tlsCertificate);
  const key = pem('tlsPrivateKey', raw.tlsPrivateKey, true);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      'upstream.tlsCertificate',
      'a client certificate needs its private key, and the key its certificate',
    );
  }
  const tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  const chargers =
    typeof raw.registrations === 'string' && raw.registrations.trim() !== ''
      ? readRegistrations(raw.registrations, 'upstream.registrations')
      : undefined;
  return {
    url,
    ...(password === undefined ? {} : { password }),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(chargers ? { chargers } : {}),
    decide,
    refuse: refuse as CentralSystemAction[],
    smartCharging,
    localTags,
    protectedKeys: list(raw.protectedKeys, 'upstream.protectedKeys', [...DEFAULT_PROTECTED_KEYS]),
    reassertKeys: list(raw.reassertKeys, 'upstream.reassertKeys', []),
    idTagCase,
    idTagByteOrder,
    decideWithinMs: milliseconds('decideWithinMs', raw.decideWithinMs, 100, 60_000),
    callTimeoutMs: milliseconds('callTimeoutMs', raw.callTimeoutMs, 100, 300_000),
    pingIntervalMs: milliseconds('pingIntervalMs', raw.pingIntervalMs, 0, 3_600_000),
    reconnect: {
      initialDelayMs: milliseconds('initialDelayMs', raw.initialDelayMs, 10, 600_000),
      maxDelayMs: milliseconds('maxDelayMs', raw.maxDelayMs, 10, 3_600_000),
    },
  };
}

/** A duration setting in ms, its default from UPSTREAM_DEFAULTS. */
function milliseconds(
  field: keyof typeof UPSTREAM_DEFAULTS,
  value: unknown,
  min: number,
  max: number,
): number {
  return parseNumber(`upstream.${field}`, value, {
    fallback: UPSTREAM_DEFAULTS[field],
    min,
    max,
    unit: 'ms',
  });
}

/**
 * The endpoint ocpp-rpc connects to for `identity` (it appends `/<identity>` itself): the URL
 * without its trailing `{identity}`. A template with `{identity}` elsewhere cannot be served.
 */
export function upstreamEndpoint(template: string): string {
  if (!/^wss?:\/\/[^/\s]+/.test(template)) {
    throw new ConfigError('upstream.url', `"${template}" is not a ws:// or wss:// URL`);
  }
  const at = template.indexOf('{identity}');
  if (at === -1) return template.replace(/\/+$/, '');
  if (at !== template.length - '{identity}'.length || template.indexOf('{identity}', at + 1) !== -1) {
    throw new ConfigError(
      'upstream.url',
      `{identity} must end the URL (OCPP-J 1.6 §3.1: the charger's identity is the last path segment): ${template}`,
    );
  }
  return template.slice(0, at).replace(/\/+$/, '');
}

/**
 * The settings as `identity` dials the backend: its own password and client certificate from the
 * registration list where it has them, the node-wide ones where it has none.
 */
export function settingsFor(settings: UpstreamSettings, identity: string): UpstreamSettings {
  const own = settings.chargers?.[identity];
  if (!own) return settings;
  const password = own.password ?? settings.password;
  const tls = {
    ...settings.tls,
    ...(own.cert && own.key ? { cert: own.cert, key: own.key } : {}),
  };
  const { password: _password, tls: _tls, ...rest } = settings;
  return {
    ...rest,
    ...(password === undefined ? {} : { password }),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  };
}

/** An id tag as the upstream wants it spelt: letter case, and an RFID UID's byte order. */
export function spellIdTag(
  idTag: string,
  settings: Pick<UpstreamSettings, 'idTagCase' | 'idTagByteOrder'>,
): string {
  const ordered = settings.idTagByteOrder === 'reversed' && isHexUid(idTag) ? reverseByteOrder(idTag) : idTag;
  if (settings.idTagCase === 'upper') return ordered.toUpperCase();
  if (settings.idTagCase === 'lower') return ordered.toLowerCase();
  return ordered;
}

/**
 * What ampflow does with the upstream's ChangeConfiguration of `key` (keys are case-insensitive,
 * CiString50): `reassert` (pass it on, then put the previous value back), `block` (Rejected), or
 * undefined (pass it on).
 */
export function keyPolicy(
  settings: Pick<UpstreamSettings, 'protectedKeys' | 'reassertKeys'>,
  key: string,
): 'reassert' | 'block' | undefined {
  const wanted = key.toLowerCase();
  const listed = (keys: string[]) => keys.some((k) => k.toLowerCase() === wanted);
  if (listed(settings.reassertKeys)) return 'reassert';
  if (listed(settings.protectedKeys)) return 'block';
  return undefined;
}

function list(value: unknown, field: string, fallback: string[]): string[] {
  if (value === undefined || value === null || value === '') return fallback;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(/[\s,]+/);
  const cleaned = items.map((item) => item.trim()).filter((item) => item.length > 0);
  if (cleaned.some((item) => !/^[A-Za-z0-9_.-]+$/.test(item))) {
    throw new ConfigError(field, `expected names separated by commas, got "${String(value)}"`);
  }
  return cleaned;
}
