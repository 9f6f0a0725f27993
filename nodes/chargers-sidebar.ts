import type { NodeAPI } from 'node-red';
import type { LoadManager } from '../lib/dlm/load-manager';
import { type Language, sayReason } from '../lib/dlm/words';
import type { StopAnomaly } from '../lib/ocpp/central-state';
import type { CentralSystem } from '../lib/ocpp/central-system';
import { CLOCK_WARN_MS, chargerClocksOf } from '../lib/ocpp/charger-clocks';
import { dialAddresses } from '../lib/ocpp/dial-addresses';
import { type ChargerFiles, fileProgressOf } from '../lib/ocpp/file-progress';
import { ChargerActivity, type ChargerListing, knownConnectorIds } from '../lib/ocpp/listings';
import type { LoadManagerNode } from './dlm-types';
import { adminRoute } from './shared/admin-routes';
import { deployedNodes } from './shared/deployed-nodes';
import type { CentralSystemNode } from './types';

/** What a load manager fed by the central system decided for one connector, and why. */
export interface SidebarDecision {
  connectorId: number;
  limitA: number;
  /** The load manager's reason, in English (as in its output). */
  reason: string;
  /** The same reason in the editor's language where it asked in one the catalogue has (`?lang=de`). */
  reasonText?: string;
}

/** A charger as the sidebar lists it: the central system's view and the load managers'. */
export type SidebarCharger = ChargerListing & {
  /** Per connector, what the load managers decided (none when no load manager names it). */
  decisions: SidebarDecision[];
  /** A load manager uses this central system, and no site of it names this charger: its load is not managed. */
  inNoSite?: true;
  /** The load manager nodes (ids) fed by this central system whose sites name this charger. */
  managedBy: string[];
  /** Its connectors as far as known, also while it is not connected (commissioning). */
  connectorIds: number[];
  /** Its link to the operator's backend, when the central system has one. */
  upstream?: { state: string; queued: number; decidedLocally?: string };
  /** Its clock minus ampflow's, s, from its own timestamps (once measured); `off` beyond 60 s. */
  clock?: { offsetS: number; off: boolean };
  /** Its firmware, diagnostics and log transfers as it reported them, and the last file it uploaded. */
  files?: ChargerFiles;
};

/** One deployed central system as the editor's Chargers sidebar shows it. */
export interface SidebarCentralSystem {
  id: string;
  name: string;
  state: string;
  /** Where a charger dials it (never `ws://[::]:…/`: then the machine's name). */
  url?: string;
  /** Listening on every interface: every URL a charger can dial, `url` first. */
  urls?: string[];
  problem?: string;
  chargePoints: SidebarCharger[];
  /** Chargers a load manager's site names that have never connected (commissioning). */
  neverConnected: string[];
  /** Chargers in the central system's own Known list that have never connected (commissioning). */
  known: string[];
  /** Stops kept as anomalies, not charge data records: how many ever, the latest (newest last). */
  stopAnomalies?: { count: number; recent: StopAnomaly[] };
}

const activities = new WeakMap<CentralSystem, ChargerActivity>();

/** Starts watching what the chargers of `cs` do (last message, warnings); stopped with it. */
export function watchChargers(cs: CentralSystem): () => void {
  const activity = new ChargerActivity(cs);
  activities.set(cs, activity);
  // Each charger's clock is measured from the central system's start (one instance per system).
  chargerClocksOf(cs);
  fileProgressOf(cs);
  return () => {
    activity.stop();
    activities.delete(cs);
  };
}

/** Every deployed central system and its chargers: what the sidebar lists. */
export function sidebarListing(RED: NodeAPI, language: Language = 'en'): SidebarCentralSystem[] {
  const ids: string[] = [];
  const knownLists = new Map<string, string[]>();
  for (const def of deployedNodes(RED)) {
    if (def.type !== 'ampflow-central-system') continue;
    ids.push(def.id);
    const list = (def as { chargePoints?: { id?: string }[] }).chargePoints;
    knownLists.set(
      def.id,
      (Array.isArray(list) ? list : []).map((cp) => String(cp.id ?? '').trim()),
    );
  }
  return ids.flatMap((id) => {
    const node = RED.nodes.getNode(id) as CentralSystemNode | null;
    if (!node) return [];
    const cs = node.centralSystem;
    const dial = cs?.url ? dialAddresses(cs.url) : undefined;
    const url = dial?.urls[0] ?? cs?.url;
    const entry: SidebarCentralSystem = {
      id,
      name: node.name || (url ?? id),
      state: cs?.state ?? 'failed',
      chargePoints: [],
      neverConnected: [],
      known: [],
    };
    if (url) entry.url = url;
    if (dial?.everyInterface) entry.urls = dial.urls;
    if (node.problem) entry.problem = node.problem;
    if (cs?.state === 'listening') {
      const listed = activities.get(cs)?.list() ?? cs.chargePoints().map((cp) => ({ ...cp, warnings: [] }));
      const managers = loadManagersOf(RED, id).map(({ node, manager }) => ({
        node,
        summary: manager.summary(),
      }));
      const summaries = managers.map((m) => m.summary);
      const named = new Set(summaries.flatMap((s) => s.connectors.map((c) => c.chargePointId)));
      const links = new Map((node.upstream?.status() ?? []).map((link) => [link.chargePointId, link]));
      entry.chargePoints = listed.map((cp) => {
        const decisions = summaries.flatMap((s) =>
          s.connectors
            .filter((c) => c.chargePointId === cp.chargePointId)
            .map((c) => ({
              connectorId: c.connectorId,
              limitA: c.limitA,
              reason: c.reason,
              ...(language === 'en'
                ? {}
                : { reasonText: c.reasonWords ? sayReason(c.reasonWords, language) : c.reason }),
            })),
        );
        const inNoSite = summaries.length > 0 && !named.has(cp.chargePointId);
        const managedBy = managers
          .filter((m) => m.summary.connectors.some((c) => c.chargePointId === cp.chargePointId))
          .map((m) => m.node);
        const link = links.get(cp.chargePointId);
        const clock = chargerClocksOf(cs).clockOf(cp.chargePointId);
        const files = fileProgressOf(cs).of(cp.chargePointId, true);
        return {
          ...cp,
          ...(files ? { files } : {}),
          decisions,
          managedBy,
          connectorIds: knownConnectorIds(cp),
          ...(inNoSite ? { inNoSite: true as const } : {}),
          ...(clock
            ? {
                clock: {
                  offsetS: Math.round(clock.offsetMs / 1000),
                  off: Math.abs(clock.offsetMs) > CLOCK_WARN_MS,
                },
              }
            : {}),
          ...(link
            ? {
                upstream: {
                  state: link.state,
                  queued: link.queued,
                  ...(link.decidedLocally ? { decidedLocally: link.decidedLocally } : {}),
                },
              }
            : {}),
        };
      });
      const anomalies = cs.stopAnomalies();
      if (anomalies.count > 0) entry.stopAnomalies = { count: anomalies.count, recent: anomalies.recent };
      const seen = new Set(listed.map((cp) => cp.chargePointId));
      entry.neverConnected = [...named].filter((chargePointId) => !seen.has(chargePointId)).sort();
      entry.known = [...new Set(knownLists.get(id) ?? [])]
        .filter((chargePointId) => chargePointId !== '' && !seen.has(chargePointId))
        .sort();
    }
    return [entry];
  });
}

/** The load managers (and their nodes' ids) deployed with the central system `centralSystemId` as their source of connector states. */
function loadManagersOf(RED: NodeAPI, centralSystemId: string): { node: string; manager: LoadManager }[] {
  const managers: { node: string; manager: LoadManager }[] = [];
  for (const def of deployedNodes(RED)) {
    if (def.type !== 'ampflow-dlm' || (def as { centralSystem?: string }).centralSystem !== centralSystemId)
      continue;
    const manager = (RED.nodes.getNode(def.id) as LoadManagerNode | null)?.loadManager;
    if (manager) managers.push({ node: def.id, manager });
  }
  return managers;
}

/**
 * The admin endpoint behind the editor's Chargers sidebar, with Node-RED's read permission for
 * the central system (`ampflow-central-system.read`).
 */
export function registerChargersSidebarRoute(RED: NodeAPI): void {
  adminRoute(RED, {
    method: 'get',
    path: '/ampflow-central-system/chargers',
    permission: 'ampflow-central-system.read',
    // The editor's language (RED.i18n.lang(): `de`, `de-DE`): the reasons in German where it is German.
    handle: (req, res) =>
      res.json(sidebarListing(RED, /^de\b/i.test(String(req.query.lang ?? '')) ? 'de' : 'en')),
  });
}
