import type { NodeAPI } from 'node-red';
import type { CentralSystemNode } from './types';

interface Request {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}
interface Response {
  status(code: number): Response;
  json(body: unknown): void;
  type(type: string): Response;
  set(header: string, value: string): Response;
  send(body: string): void;
}

/**
 * Editor helpers of the central-system node, all behind Node-RED's admin permissions: the list
 * of charge points (connected, pending, known), approving or rejecting one, and the charge data
 * records as CSV for facility staff.
 */
export function registerCentralSystemRoutes(RED: NodeAPI): void {
  const base = '/ampflow-central-system/:id';
  const read = RED.auth.needsPermission('ampflow-central-system.read');
  const write = RED.auth.needsPermission('ampflow-central-system.write');

  const running = (req: Request, res: Response) => {
    const node = RED.nodes.getNode(req.params.id ?? '') as CentralSystemNode | null;
    const cs = node?.centralSystem;
    if (cs?.state !== 'listening') {
      res.status(404).json({ error: node?.problem ?? 'this central system is not deployed or not running' });
      return undefined;
    }
    return cs;
  };

  RED.httpAdmin.get(`${base}/charge-points`, read, (req: Request, res: Response) => {
    const cs = running(req, res);
    if (cs) res.json(cs.chargePoints());
  });

  RED.httpAdmin.post(
    `${base}/charge-points/:chargePointId/:decision`,
    write,
    (req: Request, res: Response) => {
      const cs = running(req, res);
      if (!cs) return;
      const { chargePointId = '', decision } = req.params;
      if (decision !== 'approve' && decision !== 'reject') {
        res.status(400).json({ error: 'expected approve or reject' });
        return;
      }
      const done =
        decision === 'approve' ? cs.approveChargePoint(chargePointId) : cs.rejectChargePoint(chargePointId);
      done
        .then(() => res.json(cs.chargePoint(chargePointId)))
        .catch((err: Error) => res.status(500).json({ error: err.message }));
    },
  );

  RED.httpAdmin.get(`${base}/sessions.csv`, read, (req: Request, res: Response) => {
    const cs = running(req, res);
    if (!cs) return;
    const separator = req.query.separator === ';' ? ';' : ',';
    cs.exportSessionsCsv({
      separator,
      ...(req.query.from ? { from: req.query.from } : {}),
      ...(req.query.to ? { to: req.query.to } : {}),
    })
      .then((csv) =>
        res
          .type('text/csv; charset=utf-8')
          .set('Content-Disposition', `attachment; filename="charging-sessions-${req.params.id}.csv"`)
          .send(csv),
      )
      .catch((err: Error) => res.status(500).json({ error: err.message }));
  });
}
