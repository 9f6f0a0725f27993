import type { NodeAPI } from 'node-red';
import { parseMeterSettings } from '../../lib/modbus/settings';
import type { MeterNodeDef, ModbusBusNode } from '../modbus-types';
import { deployedNodes } from './deployed-nodes';

/**
 * The name a meter node's readings carry as their `source`: its own name, else `<profile>-<unit id>`.
 * One rule for the meter node (which stamps its readings) and the load manager (which finds a
 * circuit's meter by the node's id, so that renaming the meter keeps the link).
 */
export function meterName(def: MeterNodeDef, busDefaultUnitId: number): string {
  if (def.name) return def.name;
  const settings = parseMeterSettings(def, busDefaultUnitId);
  return `${settings.profile.id}-${settings.unitId}`;
}

/** The source of the readings of meter node `id` in the deployed flows, or undefined when there is no such node. */
export function meterSourceOf(RED: NodeAPI, id: string): string | undefined {
  const def = deployedNodes(RED).find((node) => node.id === id && node.type === 'ampflow-meter') as
    | MeterNodeDef
    | undefined;
  if (!def) return undefined;
  // Config nodes start before the flows' nodes: the bus is there whatever the order of the meter and the load manager.
  const bus = RED.nodes.getNode(def.bus) as ModbusBusNode | null;
  try {
    return meterName(def, bus?.defaultUnitId ?? 1);
  } catch {
    // Settings the meter node itself refuses (and says so); its readings would have no name.
    return def.name || undefined;
  }
}

/**
 * A site whose circuits name their meter by node (`meter.node`, what the editor stores) with
 * `meter.source` set to that node's current name; a node no longer in the flows keeps the source
 * saved with it, and a warning says so.
 */
export function withMeterSources(
  config: unknown,
  sourceOf: (id: string) => string | undefined,
): { config: unknown; warnings: { field: string; message: string }[] } {
  const warnings: { field: string; message: string }[] = [];
  const circuits = (config as { circuits?: unknown })?.circuits;
  if (!Array.isArray(circuits)) return { config, warnings };
  const resolved = circuits.map((circuit: unknown) => {
    const meter = (circuit as { meter?: { node?: unknown; source?: unknown } })?.meter;
    if (typeof meter?.node !== 'string' || !meter.node) return circuit;
    const source = sourceOf(meter.node);
    const id = String((circuit as { id?: unknown }).id);
    if (source === undefined) {
      warnings.push({
        field: `circuit "${id}" meter.node`,
        message: `meter node ${meter.node} is not in the deployed flows${typeof meter.source === 'string' && meter.source ? `; readings named "${meter.source}" are used` : ''}`,
      });
      return circuit;
    }
    return { ...(circuit as object), meter: { ...meter, source } };
  });
  return { config: { ...(config as object), circuits: resolved }, warnings };
}
