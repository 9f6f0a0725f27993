import type { NodeAPI } from 'node-red';
import type { CentralSystem } from '../lib/ocpp/central-system';
import { ChargerActivity, type ChargerListing } from '../lib/ocpp/listings';
import type { CentralSystemNode } from './types';

interface Response {
  json(body: unknown): void;
}

/** One deployed central system as the editor's Chargers sidebar shows it. */
export interface SidebarCentralSystem {
  id: string;
  name: string;
  state: string;
  url?: string;
  problem?: string;
  chargePoints: ChargerListing[];
}

const activities = new WeakMap<CentralSystem, ChargerActivity>();

/** Starts watching what the chargers of `cs` do (last message, warnings); stopped with it. */
export function watchChargers(cs: CentralSystem): () => void {
  const activity = new ChargerActivity(cs);
  activities.set(cs, activity);
  return () => {
    activity.stop();
    activities.delete(cs);
  };
}

/** Every deployed central system and its chargers: what the sidebar lists. */
export function sidebarListing(RED: NodeAPI): SidebarCentralSystem[] {
  const ids: string[] = [];
  RED.nodes.eachNode((def) => {
    if (def.type === 'ampflow-central-system') ids.push(def.id);
  });
  return ids.flatMap((id) => {
    const node = RED.nodes.getNode(id) as CentralSystemNode | null;
    if (!node) return [];
    const cs = node.centralSystem;
    const entry: SidebarCentralSystem = {
      id,
      name: node.name || (cs?.url ?? id),
      state: cs?.state ?? 'failed',
      chargePoints: [],
    };
    if (cs?.url) entry.url = cs.url;
    if (node.problem) entry.problem = node.problem;
    if (cs?.state === 'listening') {
      entry.chargePoints =
        activities.get(cs)?.list() ?? cs.chargePoints().map((cp) => ({ ...cp, warnings: [] }));
    }
    return [entry];
  });
}

/**
 * The admin endpoint behind the editor's Chargers sidebar, with Node-RED's read permission for
 * the central system (`ampflow-central-system.read`).
 */
export function registerChargersSidebarRoute(RED: NodeAPI): void {
  RED.httpAdmin.get(
    '/ampflow-central-system/chargers',
    RED.auth.needsPermission('ampflow-central-system.read'),
    (_req: unknown, res: Response) => {
      res.json(sidebarListing(RED));
    },
  );
}
