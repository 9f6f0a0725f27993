import type { NodeStatus } from 'node-red';
import { type MessageValues, message } from './i18n';

/**
 * How a state looks on the canvas. The colour and shape say how much a state needs someone's
 * attention, the same way in every node, so a glance over a flow finds what is wrong.
 */
const LOOKS = {
  /** Works as it should: connected, charging, a reading, a verified limit. */
  good: { fill: 'green', shape: 'dot' },
  /** Works, with nothing to do: no charger connected, nothing charging. */
  quiet: { fill: 'grey', shape: 'dot' },
  /** Not running, on purpose or not yet: idle, closed, stopped, a charger offline. */
  off: { fill: 'grey', shape: 'ring' },
  /** On its way or working on a fallback: starting, connecting, stale meters, a limit held lower. */
  caution: { fill: 'yellow', shape: 'ring' },
  /** Working but not fully known: a partial reading, a limit sent and not yet verified. */
  unsure: { fill: 'yellow', shape: 'dot' },
  /** Does not work until something changes: settings, a lost connection, a refusal. */
  problem: { fill: 'red', shape: 'ring' },
  /** Electrical safety at stake: an overloaded circuit, a charger ignoring its limit. */
  alarm: { fill: 'red', shape: 'dot' },
} as const satisfies Record<string, Required<Pick<NodeStatus, 'fill' | 'shape'>>>;

type Look = keyof typeof LOOKS;

/**
 * A state's look; `short` names the state whose text is shown where this one's, filled with its
 * values, would be 20 characters or more (Node-RED asks for status texts under 20): a value of
 * unknown length (an action name) gives way to what the state says (`done`).
 */
type StateLook = Look | { look: Look; short: string };

/**
 * The one status table: every state of every node type, by the type that owns it. A state's text
 * is `<type>.status.<state>` in `locales/<lang>/<type>.json`, its `__placeholders__` filled with
 * the values the node gives. Which state a node is in is decided next to the node (status.ts,
 * modbus-status.ts, dlm-status.ts, profile-status.ts); how it looks is decided only here.
 */
const STATES = {
  /** The central system as every node using it shows it. */
  'ampflow-central-system': {
    noCentralSystem: 'problem',
    notStarted: 'problem',
    portInUse: 'problem',
    tlsProblem: 'problem',
    settingsError: 'problem',
    starting: 'caution',
    connected: 'good',
    noneConnected: 'quiet',
    failed: 'problem',
    stopped: 'off',
  },
  /** A Modbus bus as every meter on it shows it. */
  'ampflow-modbus-bus': {
    noBus: 'problem',
    settingsError: 'problem',
    idle: 'off',
    connecting: 'caution',
    connected: 'good',
    reconnecting: 'problem',
    closed: 'off',
  },
  'ampflow-meter': {
    busSettingsError: 'problem',
    settingsError: 'problem',
    stale: 'problem',
    staleBus: 'problem',
    implausible: 'problem',
    ok: 'good',
    measured: 'good',
    partial: 'unsure',
    failing: 'caution',
    failure: 'caution',
    reading: 'off',
    stopped: 'off',
  },
  'ampflow-dlm': {
    settingsError: 'problem',
    overload: 'alarm',
    overLimit: 'problem',
    readingRefused: 'problem',
    reserved: 'caution',
    fallback: 'caution',
    waiting: 'caution',
    offlineUnfit: 'caution',
    idle: 'quiet',
    charging: { look: 'good', short: 'chargingShort' },
    chargingShort: 'good',
  },
  'ampflow-charging-profile': {
    settingsError: 'problem',
    refused: 'problem',
    offline: 'off',
    ignored: 'alarm',
    notTaken: 'problem',
    heldLower: 'caution',
    verified: 'good',
    over: 'caution',
    sent: 'unsure',
  },
  'ampflow-ocpp-command': {
    answered: { look: 'good', short: 'answerOnly' },
    answerOnly: 'good',
    done: { look: 'good', short: 'doneOnly' },
    doneOnly: 'good',
    failed: { look: 'problem', short: 'failedOnly' },
    failedOnly: 'problem',
  },
  'ampflow-ocpp-response': {
    answered: 'good',
    tooLate: 'caution',
  },
} as const satisfies Record<string, Record<string, StateLook>>;

/** The node types that have states. */
export type StatusOwner = keyof typeof STATES;
/** The states of one node type. */
export type StateOf<T extends StatusOwner> = keyof (typeof STATES)[T] & string;

/**
 * The Node-RED status of `type`'s `state`, its text in the runtime's language: its short state's
 * text where it would not fit, and any text still too long ended on a whole word.
 */
export function statusOf<T extends StatusOwner>(
  type: T,
  state: StateOf<T>,
  values?: MessageValues,
): NodeStatus {
  const status = statusIfFits(type, state, values);
  return { ...status, text: toWord(status.text) };
}

/**
 * `type`'s `state` as `statusOf` shows it, but its text not shortened: for a node that shows
 * another state where this one does not fit (`fits`).
 */
export function statusIfFits<T extends StatusOwner>(
  type: T,
  state: StateOf<T>,
  values?: MessageValues,
): NodeStatus & { text: string } {
  const entry: StateLook = (STATES[type] as Record<string, StateLook>)[state] as StateLook;
  const look = typeof entry === 'string' ? entry : entry.look;
  let text = message(type, `status.${state}`, values);
  if (!fits(text) && typeof entry === 'object') text = message(type, `status.${entry.short}`, values);
  return { ...LOOKS[look], text };
}

/**
 * One status for many things in different states (`9 verified, 1 refused`): each state's count
 * (`<type>.status.count.<state>`, its `__count__` filled), in the order given, looking like the
 * worst of them.
 */
export function statusOfCounts<T extends StatusOwner>(
  type: T,
  counts: readonly { state: StateOf<T>; count: number }[],
): NodeStatus {
  let worst: Look = 'good';
  const parts: string[] = [];
  for (const { state, count } of counts) {
    const entry: StateLook = (STATES[type] as Record<string, StateLook>)[state] as StateLook;
    const look = typeof entry === 'string' ? entry : entry.look;
    if (SEVERITY.indexOf(look) > SEVERITY.indexOf(worst)) worst = look;
    parts.push(message(type, `status.count.${state}`, { count }));
  }
  return { ...LOOKS[worst], text: parts.join(', ') };
}

/** The looks from the least to the most in need of attention. */
const SEVERITY = Object.keys(LOOKS) as Look[];

/** Whether a status text is short enough as it is (under 20 characters). */
export function fits(text: string | undefined): boolean {
  return (text ?? '').length < 20;
}

/** Every state of every type, for checking that each has its text. */
export function allStates(): { type: StatusOwner; state: string }[] {
  return (Object.keys(STATES) as StatusOwner[]).flatMap((type) =>
    Object.keys(STATES[type]).map((state) => ({ type, state })),
  );
}

/**
 * `text` as it is where it fits, else its longest run of whole words that fits with `…` after it
 * (`fallback: 12 stale` stays, a long meter failure ends on its last whole word); a first word too
 * long for any status is cut, with `…`.
 */
export function toWord(text: string): string {
  if (fits(text)) return text;
  const words = text.split(' ');
  for (let count = words.length - 1; count > 0; count--) {
    const shorter = `${words
      .slice(0, count)
      .join(' ')
      .replace(/[\s,:;(–-]+$/, '')}…`;
    if (fits(shorter) && shorter !== '…') return shorter;
  }
  return `${text.slice(0, 18)}…`;
}
