/**
 * Saved flows live for years, and a setting's shape changes with the package: each structured
 * setting carries the version of its shape, and is upgraded step by step to the current one when
 * it is read, by the runtime (a node's settings on deploy) and by the editor (a dialog opening a
 * node saved by an older release). One table per setting, here and nowhere else.
 *
 * The editor gets this very file, compiled, in its pages (the include-script line of
 * nodes/shared/editor-html.ts): it must stay free of imports.
 *
 * A shape without a version is version 0: what every release up to 0.1.0 (November 2026) saved.
 * A shape newer than this release knows is refused with words that say so, never guessed at: a
 * flow copied from a newer Node-RED must not be read as something it is not.
 */

/** One step: the shape at `from` turned into the shape at `from + 1`. */
export interface ShapeStep {
  from: number;
  /** What changed, for the log and the dialog's notice. */
  change: string;
  /**
   * Returns the upgraded shape. It gets a shallow copy: it may set and delete its fields, but
   * must copy a nested object or list before changing it (the caller's stays as it was).
   */
  up(shape: Record<string, unknown>): Record<string, unknown>;
}

/** A versioned setting: its name for messages, the field that holds its version, its steps. */
export interface VersionedShape {
  name: string;
  /** The field of the shape that holds its version. */
  field: string;
  /** The version this release writes. */
  current: number;
  /** One step from each older version, in order: `steps[n].from === n`. */
  steps: readonly ShapeStep[];
}

/** The load manager's site (the `site` setting of ampflow-dlm, and the `site` command). */
export const SITE_SHAPE: VersionedShape = {
  name: "the load manager's site",
  field: 'version',
  current: 1,
  steps: [
    {
      from: 0,
      change: 'the version is written; no field changed (sites saved up to 0.1.0)',
      up: (shape) => shape,
    },
  ],
};

/**
 * What a load manager keeps across restarts and redeploys (lib/dlm/memory.ts, a file under Node-RED's
 * user directory): not a setting, but read back by the next release just the same. Version 0 (no
 * `version`) held only what it learned (the other loads' peaks, the chargers' follow times).
 */
export const LOAD_MANAGER_MEMORY_SHAPE: VersionedShape = {
  name: "the load manager's kept state",
  field: 'version',
  current: 1,
  steps: [
    {
      from: 0,
      change:
        'the version is written; what the flow sent (prices, plans, modes, PV timers) is kept beside what was learned',
      up: (shape) => shape,
    },
  ],
};

/** The package's node types: each node's settings carry `configVersion`, the version of their shape. */
export const NODE_TYPES = [
  'ampflow-central-system',
  'ampflow-ocpp-in',
  'ampflow-ocpp-command',
  'ampflow-ocpp-response',
  'ampflow-modbus-bus',
  'ampflow-meter',
  'ampflow-dlm',
  'ampflow-charging-profile',
] as const;

/** A node's settings (its lists of chargers, id tags, registers ... with them), per node type. */
export const NODE_SHAPES: Readonly<Record<string, VersionedShape>> = Object.fromEntries(
  NODE_TYPES.map((type) => [
    type,
    {
      name: `the settings of the ${type} node`,
      field: 'configVersion',
      current: 1,
      steps: [
        {
          from: 0,
          change: 'the version is written; no setting changed (nodes saved up to 0.1.0)',
          up: (shape) => shape,
        },
      ],
    },
  ]),
);

/** The version a new node of `type` is made with (its `configVersion` default in the editor). */
export function nodeShapeVersion(type: string): number {
  return NODE_SHAPES[type]?.current ?? 0;
}

/**
 * A node's saved settings (Node-RED's node definition) upgraded to today's shape of its type; a
 * type of another package is left as it is. Throws a ShapeVersionError like upgradeShape.
 */
export function upgradeNodeSettings<T extends object>(type: string, settings: T): T {
  const versioned = NODE_SHAPES[type];
  return versioned ? (upgradeShape(versioned, settings as Record<string, unknown>).shape as T) : settings;
}

/** What the editor upgrade needs of Node-RED's editor (`RED`). */
interface EditorLike {
  events: { on(event: 'nodes:add', handler: (node: Record<string, unknown>) => void): void };
  notify(message: string, type: 'error'): void;
}

let editorWatched = false;

/**
 * In the editor: every node of this package, as the editor loads or imports it, is upgraded in
 * place to today's shape (its settings, and the load manager's site), before any dialog reads it;
 * a node from a newer release is left as it is and named once. The runtime upgrades the same way
 * on deploy, so what the editor shows is what runs.
 */
export function upgradeInEditor(red: EditorLike): void {
  if (editorWatched) return;
  editorWatched = true;
  red.events.on('nodes:add', (node) => {
    const type = String(node.type);
    if (!NODE_SHAPES[type]) return;
    try {
      const upgraded = upgradeNodeSettings(type, pick(node, Object.keys(node)));
      for (const [key, value] of Object.entries(upgraded)) if (node[key] !== value) node[key] = value;
      if (type === 'ampflow-dlm' && typeof node.site === 'string' && node.site.trim() !== '') {
        const site = JSON.parse(node.site);
        if (site && typeof site === 'object' && site[SITE_SHAPE.field] !== SITE_SHAPE.current)
          node.site = JSON.stringify(upgradeSite(site).shape);
      }
    } catch (err) {
      // A site that is not JSON is the dialog's and the runtime's to name; a newer release is named here.
      if (err instanceof ShapeVersionError)
        red.notify(`${String(node.name || node.id)}: ${err.message}`, 'error');
    }
  });
}

function pick(node: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => !key.startsWith('_')).map((key) => [key, node[key]]));
}

/** What an upgrade did: the shape at the current version, and the version it was saved with. */
export interface Upgraded {
  shape: Record<string, unknown>;
  from: number;
  /** What changed on the way, one line per step (empty when it was current). */
  changes: string[];
}

/** Why a shape cannot be read: its version is not a version, or is newer than this release's. */
export class ShapeVersionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShapeVersionError';
  }
}

/**
 * `shape` at the current version of `versioned`, with the version written, in a new object:
 * `shape` is left as it was. Throws a ShapeVersionError naming the field when the version is not a whole
 * number from 0 up or is newer than this release knows.
 */
export function upgradeShape(versioned: VersionedShape, shape: Record<string, unknown>): Upgraded {
  const saved = shape[versioned.field];
  const from = saved === undefined ? 0 : saved;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0) {
    throw new ShapeVersionError(
      versioned.field,
      `${versioned.name}: ${versioned.field} ${JSON.stringify(saved)} is not a version (a whole number from 0 up)`,
    );
  }
  if (from > versioned.current) {
    throw new ShapeVersionError(
      versioned.field,
      `${versioned.name}: saved by a newer release of ampflow (version ${from}; this one reads up to ${versioned.current}): update the package before deploying this flow`,
    );
  }
  // Shallow: values JSON cannot hold (NaN in a test of the validation) pass through as they are.
  let upgraded: Record<string, unknown> = { ...shape };
  const changes: string[] = [];
  for (let version = from; version < versioned.current; version++) {
    const step = versioned.steps[version];
    if (!step || step.from !== version) throw new Error(`${versioned.name}: no step from version ${version}`);
    upgraded = step.up(upgraded);
    changes.push(`${version} → ${version + 1}: ${step.change}`);
  }
  upgraded[versioned.field] = versioned.current;
  return { shape: upgraded, from, changes };
}

/** `site` upgraded to the current site shape (see upgradeShape). */
export function upgradeSite(site: Record<string, unknown>): Upgraded {
  return upgradeShape(SITE_SHAPE, site);
}
