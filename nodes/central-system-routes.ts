import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeAPI } from 'node-red';
import { answeredSafely } from '../lib/ocpp/listener';
import { importRegistrations } from '../lib/upstream/registrations';
import { type AdminRequest, type AdminResponse, adminRoute } from './shared/admin-routes';
import type { CentralSystemCredentials, CentralSystemNode } from './types';

/** Where, under Node-RED's HTTP nodes' root, a central system on the shared server serves its files. */
export function filesRoute(nodeId: string): string {
  return `/ampflow-central-system/${nodeId}/`;
}

/**
 * Editor helpers of the central-system node, all behind Node-RED's admin permissions: the list
 * of charge points (connected, pending, known), approving or rejecting one, the charge data
 * records as CSV for facility staff, the stops kept as anomalies instead, and the import of the operator's backend registration list.
 */
export function registerCentralSystemRoutes(RED: NodeAPI): void {
  const base = '/ampflow-central-system/:id';

  // A central system on Node-RED's shared server serves its files (lib/ocpp/files.ts) under the
  // HTTP nodes' root: one middleware hands each request to the node it names.
  RED.httpNode?.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const id = /^\/ampflow-central-system\/([^/?]+)\/ampflow-files\//.exec(req.url ?? '')?.[1];
    const cs = id ? (RED.nodes.getNode(id) as CentralSystemNode | null)?.centralSystem : undefined;
    // Only one on the shared server (its filesPath): one on a port of its own serves them there.
    if (!id || !cs?.options.filesPath) return next();
    if (!answeredSafely(req, res, RED.log, (q, r) => cs.files.handle(filesRoute(id), q, r))) next();
  });

  const running = (req: AdminRequest, res: AdminResponse) => {
    const node = RED.nodes.getNode(req.params.id ?? '') as CentralSystemNode | null;
    const cs = node?.centralSystem;
    if (cs?.state !== 'listening') {
      res.status(404).json({ error: node?.problem ?? 'this central system is not deployed or not running' });
      return undefined;
    }
    return cs;
  };

  adminRoute(RED, {
    method: 'get',
    path: `${base}/charge-points`,
    permission: 'ampflow-central-system.read',
    handle: (req, res) => {
      const cs = running(req, res);
      if (cs) res.json(cs.chargePoints());
    },
  });

  adminRoute(RED, {
    method: 'post',
    path: `${base}/charge-points/:chargePointId/:decision`,
    permission: 'ampflow-central-system.write',
    handle: async (req, res) => {
      const cs = running(req, res);
      if (!cs) return;
      const { chargePointId = '', decision } = req.params;
      if (decision !== 'approve' && decision !== 'reject') {
        res.status(400).json({ error: 'expected approve or reject' });
        return;
      }
      await (decision === 'approve'
        ? cs.approveChargePoint(chargePointId)
        : cs.rejectChargePoint(chargePointId));
      res.json(cs.chargePoint(chargePointId));
    },
  });

  adminRoute(RED, {
    method: 'get',
    path: `${base}/sessions.csv`,
    permission: 'ampflow-central-system.read',
    handle: async (req, res) => {
      const cs = running(req, res);
      if (!cs) return;
      const decimal = req.query.decimal === ',' ? ',' : '.';
      const separator = req.query.separator === ';' || decimal === ',' ? ';' : ',';
      let csv: string;
      try {
        csv = await cs.exportSessionsCsv({
          separator,
          decimal,
          ...(req.query.from ? { from: req.query.from } : {}),
          ...(req.query.to ? { to: req.query.to } : {}),
        });
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        res.status(400).json({ error: err.message });
        return;
      }
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="charging-sessions-${req.params.id}.csv"`)
        .send(csv);
    },
  });

  // Stops kept as anomalies instead of charge data records (lib/ocpp/stop-anomalies.ts), every one
  // from the archive, oldest first: what the CDR export leaves out, for the operator to settle.
  adminRoute(RED, {
    method: 'get',
    path: `${base}/stop-anomalies`,
    permission: 'ampflow-central-system.read',
    handle: async (req, res) => {
      const cs = running(req, res);
      if (!cs) return;
      const kept = cs.stopAnomalies();
      const anomalies = [];
      for await (const anomaly of kept.all()) anomalies.push(anomaly);
      res.json({ count: kept.count, anomalies });
    },
  });

  // The backend's registration list (CSV) into the list being edited, parsed by lib; the editor
  // saves the result as the node's credential. With `stored`, into the node's stored list (the
  // dialog cannot see it), so an import keeps the chargers the file does not name. Needs write:
  // it carries passwords (whoever may write may point the backend URL elsewhere anyway).
  adminRoute(RED, {
    method: 'post',
    path: '/ampflow-central-system/upstream-registrations',
    permission: 'ampflow-central-system.write',
    handle: (req, res) => {
      const body = (req.body ?? {}) as {
        id?: unknown;
        stored?: unknown;
        current?: unknown;
        imported?: unknown;
        files?: unknown;
      };
      if (typeof body.imported !== 'string') {
        res.status(400).json({ error: 'expected { imported: "<the CSV>", current?: "<the list>" }' });
        return;
      }
      const typed = typeof body.current === 'string' ? body.current : '';
      const stored =
        body.stored === true && typeof body.id === 'string'
          ? ((RED.nodes.getCredentials(body.id) as CentralSystemCredentials | undefined)
              ?.upstreamRegistrations ?? '')
          : '';
      // PEM files chosen with the CSV, by name: their content goes into the list.
      const files = Object.fromEntries(
        Object.entries(typeof body.files === 'object' && body.files !== null ? body.files : {}).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      );
      res.json(importRegistrations(typed.trim() === '' ? stored : typed, body.imported, files));
    },
  });
}
