/**
 * Turns a message (topic + payload, as a Node-RED flow carries it) into a load-manager input, so
 * the node stays thin and the rules are tested without Node-RED.
 *
 * - `<chargePointId>/ConnectorState` and `<chargePointId>/StatusNotification` (ampflow-ocpp-in):
 *   the payload is a ConnectorState.
 * - `<chargePointId>/MeterValues` (ampflow-ocpp-in): the payload is a Reading (source
 *   `<chargePointId>/<connectorId>`) and updates that connector's measured currents.
 * - Commands by topic: `mode`, `priority`, `siteLimit`, `pv`, `site`, `summary`, and `prices`,
 *   `pvForecast`, `plan` (modes/price-plans.ts: the stage checks them, naming the bad field).
 * - `limitConfirmed` (or `<chargePointId>/LimitConfirmed`): a charger confirmed the limit it holds,
 *   `{ chargePointId, connectorId, limitA, since? }`, from a flow that sends set-points another way.
 * - Anything else whose payload looks like a Reading (has `currentA`, `powerW` or `totalPowerW`)
 *   is a meter reading; its `source` is the payload's, else the topic.
 * - A meter's message that says it is stale (`msg.stale` true, as ampflow-meter sends it, or
 *   `payload.stale` true from a flow) is a stale notice for that meter, whatever values it carries
 *   (its last reading is not news): why is `msg.staleReason` or `payload.staleReason`.
 */
import type { ConnectorState, ModbusFault, Reading, StaleCause } from '../contracts';
import { isObject } from '../objects';
import type { DlmCommand } from './load-manager';
import type { SiteConfig } from './site/config';

export type DlmInput =
  | { kind: 'reading'; reading: Reading }
  | { kind: 'connectorState'; state: ConnectorState }
  | { kind: 'command'; command: DlmCommand }
  | { kind: 'confirmation'; confirmation: LimitConfirmation }
  /** A meter says it is stale (its connection lost, its reads failing). */
  | { kind: 'meterStale'; source: string; why?: string; cause?: StaleCause }
  /** `quiet`: nothing the sender should hear about (a stale meter's notice). */
  | { kind: 'ignored'; why: string; quiet?: boolean };

/** A charger confirmed the limit it holds on a connector (topic `limitConfirmed`). */
export interface LimitConfirmation {
  chargePointId: string;
  connectorId: number;
  limitA: number;
  /** Since when it holds (ISO 8601; default: when the message arrived). */
  since?: string;
}

export const DLM_COMMAND_TOPICS = [
  'mode',
  'priority',
  'siteLimit',
  'pv',
  'site',
  'summary',
  'prices',
  'pvForecast',
  'plan',
  'soc',
] as const;

/**
 * Events of `ampflow-ocpp-in` (topic `<chargePointId>/<event>`) that say nothing about load: a
 * flow that wires every charger event into the load manager is not warned about them.
 */
const QUIET_EVENTS =
  /^[^/]+\/(BootNotification|Heartbeat|Authorize|StartTransaction|StopTransaction|DataTransfer|Connected|Disconnected|Session|\w+StatusNotification|SecurityEventNotification|SignCertificate)$/;

/** What a message says beside its topic and payload: ampflow-meter's `msg.stale` and `msg.staleReason`. */
export interface MessageFlags {
  stale?: unknown;
  staleReason?: unknown;
  staleCause?: unknown;
}

/** The input a message carries; `receivedAt` stamps a reading that has no timestamp. */
export function parseDlmMessage(
  topic: unknown,
  payload: unknown,
  receivedAt: string,
  flags: MessageFlags = {},
): DlmInput {
  const text = typeof topic === 'string' ? topic.trim() : '';
  const action = text.includes('/') ? text.slice(text.lastIndexOf('/') + 1) : text;
  const object = isObject(payload) ? payload : undefined;

  if ((DLM_COMMAND_TOPICS as readonly string[]).includes(text)) return command(text, payload);
  if (text === 'limitConfirmed' || action === 'LimitConfirmed') return confirmation(text, object);
  if (QUIET_EVENTS.test(text) && action !== 'StatusNotification') {
    return { kind: 'ignored', why: `${text}: says nothing about load`, quiet: true };
  }

  if (action === 'ConnectorState' || action === 'StatusNotification') {
    if (!object || typeof object.chargePointId !== 'string' || typeof object.connectorId !== 'number') {
      return { kind: 'ignored', why: `${text}: the payload is not a connector state` };
    }
    if (object.outOfOrder === true) return { kind: 'ignored', why: `${text}: out of order` };
    const { outOfOrder: _, ...state } = object;
    return {
      kind: 'connectorState',
      state: { ...(state as unknown as ConnectorState), online: object.online !== false },
    };
  }
  if (action === 'MeterValues') {
    if (!object || typeof object.chargePointId !== 'string' || typeof object.connectorId !== 'number') {
      return { kind: 'ignored', why: `${text}: the payload is not a MeterValues payload` };
    }
    if (object.outOfOrder === true) return { kind: 'ignored', why: `${text}: out of order` };
    const { readings: _r, chargePointId, connectorId, transactionId: _t, ...reading } = object;
    return {
      kind: 'reading',
      reading: {
        ...(reading as Partial<Reading>),
        source: `${chargePointId}/${connectorId}`,
        timestamp: typeof reading.timestamp === 'string' ? reading.timestamp : receivedAt,
      },
    };
  }
  if (flags.stale === true || object?.stale === true) {
    const source = typeof object?.source === 'string' && object.source ? object.source : text;
    if (!source) return { kind: 'ignored', why: 'a stale notice without source or topic' };
    const reason = [flags.staleReason, object?.staleReason].find((r) => typeof r === 'string' && r);
    const cause = [flags.staleCause, object?.staleCause].find(isStaleCause);
    return {
      kind: 'meterStale',
      source,
      ...(reason === undefined ? {} : { why: reason as string }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
  if (
    object &&
    ('currentA' in object || 'powerW' in object || 'totalPowerW' in object || 'socPercent' in object)
  ) {
    const source = typeof object.source === 'string' && object.source ? object.source : text;
    if (!source) return { kind: 'ignored', why: 'a reading without source or topic' };
    return {
      kind: 'reading',
      reading: {
        ...(object as Partial<Reading>),
        source,
        timestamp: typeof object.timestamp === 'string' ? object.timestamp : receivedAt,
      },
    };
  }
  // A meter that went stale says so with its last reading, or with none: nothing new to take (the
  // load manager counts staleness from the last values it has), nothing to warn about either.
  if (
    object &&
    typeof object.source === 'string' &&
    Object.keys(object).every((key) => key === 'source' || key === 'timestamp')
  ) {
    return { kind: 'ignored', why: `${object.source}: a reading with no values`, quiet: true };
  }
  if (object && typeof object.chargePointId === 'string' && typeof object.connectorId === 'number') {
    return {
      kind: 'connectorState',
      state: { ...(object as unknown as ConnectorState), online: object.online !== false },
    };
  }
  return { kind: 'ignored', why: `topic "${text}": neither a reading, a connector state nor a command` };
}

function command(topic: string, payload: unknown): DlmInput {
  const object = isObject(payload) ? payload : {};
  const bad = (why: string): DlmInput => ({ kind: 'ignored', why: `${topic}: ${why}` });
  switch (topic) {
    case 'mode':
    case 'priority': {
      const chargePointId = typeof object.chargePointId === 'string' ? object.chargePointId : undefined;
      if (!chargePointId) return bad('payload.chargePointId is missing (use "*" for every connector)');
      const connectorId = object.connectorId === undefined ? undefined : Number(object.connectorId);
      if (connectorId !== undefined && !Number.isInteger(connectorId))
        return bad('payload.connectorId is not a number');
      const value = object[topic];
      // mode and priority build commands of the same shape with values of other types; written
      // out apart on purpose (each with its own check and type), not a shared builder.
      if (topic === 'mode') {
        if (value !== null && typeof value !== 'string')
          return bad('payload.mode is missing (or null to reset)');
        return {
          kind: 'command',
          command: {
            type: 'mode',
            chargePointId,
            ...(connectorId === undefined ? {} : { connectorId }),
            mode: value as never,
          },
        };
      }
      if (value !== null && typeof value !== 'number')
        return bad('payload.priority is not a number (or null to reset)');
      return {
        kind: 'command',
        command: {
          type: 'priority',
          chargePointId,
          ...(connectorId === undefined ? {} : { connectorId }),
          priority: value,
        },
      };
    }
    case 'siteLimit':
      return {
        kind: 'command',
        command: {
          type: 'siteLimit',
          ...(object as Omit<Extract<DlmCommand, { type: 'siteLimit' }>, 'type'>),
        },
      };
    case 'pv':
      return {
        kind: 'command',
        command: { type: 'pv', ...(object as Omit<Extract<DlmCommand, { type: 'pv' }>, 'type'>) },
      };
    case 'site':
      if (!isObject(payload)) return bad('the payload is not a site configuration');
      return { kind: 'command', command: { type: 'site', site: payload as unknown as SiteConfig } };
    case 'prices':
      return { kind: 'command', command: { type: 'prices', prices: payload } };
    case 'pvForecast':
      return { kind: 'command', command: { type: 'pvForecast', forecast: payload } };
    case 'plan':
      if (typeof object.chargePointId !== 'string' || !object.chargePointId)
        return bad('payload.chargePointId is missing (use "*" for every connector)');
      return {
        kind: 'command',
        command: { ...(object as Omit<Extract<DlmCommand, { type: 'plan' }>, 'type'>), type: 'plan' },
      };
    case 'soc':
      if (typeof object.chargePointId !== 'string' || !object.chargePointId)
        return bad('payload.chargePointId is missing');
      return {
        kind: 'command',
        command: { ...(object as Omit<Extract<DlmCommand, { type: 'soc' }>, 'type'>), type: 'soc' },
      };
    default:
      return { kind: 'command', command: { type: 'summary' } };
  }
}

function confirmation(topic: string, object: Record<string, unknown> | undefined): DlmInput {
  const limitA = object?.limitA;
  if (
    !object ||
    typeof object.chargePointId !== 'string' ||
    typeof object.connectorId !== 'number' ||
    typeof limitA !== 'number' ||
    !Number.isFinite(limitA)
  ) {
    return { kind: 'ignored', why: `${topic}: the payload is not { chargePointId, connectorId, limitA }` };
  }
  return {
    kind: 'confirmation',
    confirmation: {
      chargePointId: object.chargePointId,
      connectorId: object.connectorId,
      limitA,
      ...(typeof object.since === 'string' ? { since: object.since } : {}),
    },
  };
}

/** Whether `value` is a meter's stale cause as ampflow-meter sends it (lib/readings.ts StaleCause); anything else is not taken. */
function isStaleCause(value: unknown): value is StaleCause {
  if (!isObject(value)) return false;
  const text = (v: unknown) => typeof v === 'string';
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const fault = (v: unknown) => v === undefined || isModbusFault(v);
  const news = value.connectionLost ?? value.noConnection;
  if (news !== undefined)
    return (
      isObject(news) &&
      text(news.address) &&
      (news.error === undefined || text(news.error)) &&
      fault(news.fault)
    );
  if (value.readsFailed !== undefined)
    return (
      isObject(value.readsFailed) &&
      count(value.readsFailed.times) &&
      text(value.readsFailed.error) &&
      fault(value.readsFailed.fault)
    );
  return count(value.nothingReadS);
}

const count = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The numbers (or the text) each kind of a Modbus fault carries (lib/readings.ts ModbusFault). */
const FAULT_FIELDS: Readonly<Record<ModbusFault['kind'], readonly string[]>> = {
  timeout: ['ms'],
  exception: ['code'],
  wrongLength: ['registers', 'asked'],
  unusable: ['detail'],
  badLength: ['got', 'expected'],
  wrongUnit: ['got', 'expected'],
  wrongFunction: ['got', 'expected'],
  byteCount: ['got', 'expected'],
  crc: [],
  system: ['code'],
  connectTimeout: ['ms'],
  silent: ['s'],
  closedByPeer: [],
  connectionClosed: [],
  portClosed: [],
  hungUp: [],
  reopened: [],
  busClosed: [],
  queueFull: ['waiting'],
  queueTimeout: ['ms'],
  notConnected: ['ms'],
  brokeTwice: [],
  backedOff: ['failures', 'nextS'],
};

/** Whether `value` is a Modbus fault of a known kind with its fields (a nested cause too). */
function isModbusFault(value: unknown, depth = 0): value is ModbusFault {
  if (!isObject(value) || typeof value.kind !== 'string' || depth > 3) return false;
  if (!Object.hasOwn(FAULT_FIELDS, value.kind)) return false;
  const fields = FAULT_FIELDS[value.kind as ModbusFault['kind']];
  const textual = value.kind === 'unusable' || value.kind === 'system';
  if (!fields.every((field) => (textual ? typeof value[field] === 'string' : count(value[field]))))
    return false;
  const nested = value.cause ?? value.last;
  return nested === undefined || isModbusFault(nested, depth + 1);
}
