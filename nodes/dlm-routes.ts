import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeAPI } from 'node-red';
import { validateSite } from '../lib/dlm/site';
import { rotationFindings } from '../lib/dlm/site/rotation-check';
import { wordsCatalogue } from '../lib/dlm/words';
import { adminRoute } from './shared/admin-routes';
import type { CentralSystemNode } from './types';

/** Where, under Node-RED's HTTP nodes' root, the dashboards load the reasons' words (docs/dashboard.md). */
export const WORDS_ROUTE = '/ampflow/words.json';

/**
 * Editor helper of the load manager node: the site checked as it is being edited. And, beside the
 * dashboards (under the HTTP nodes' root, behind its httpNodeAuth as they are), the catalogue of
 * the reasons' words, so a dashboard says them in its browser's language.
 */
export function registerDlmRoutes(RED: NodeAPI): void {
  const words = JSON.stringify(wordsCatalogue());
  RED.httpNode?.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== WORDS_ROUTE) return next();
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'max-age=3600',
    });
    res.end(words);
  });
  adminRoute(RED, {
    method: 'post',
    path: '/ampflow-dlm/validate',
    permission: 'ampflow-dlm.read',
    // Every problem and warning, named; the site itself stays in the editor. With `centralSystem`
    // (the chosen node's id), the rotations are compared with what its chargers report.
    handle: (req, res) => {
      const { problems, warnings, site } = validateSite(req.body);
      const csId = req.query.centralSystem;
      const cs = csId ? (RED.nodes.getNode(csId) as CentralSystemNode | null)?.centralSystem : undefined;
      const raw = (req.body as { connectors?: unknown } | null)?.connectors;
      const rotations = rotationFindings(
        Array.isArray(raw) ? raw : [],
        site?.connectors ?? [],
        (id) =>
          cs?.chargePoint(id)?.configuration?.keys.find((entry) => entry.key === 'ConnectorPhaseRotation')
            ?.value,
      );
      res.json({ problems, warnings: [...warnings, ...rotations.warnings], notes: rotations.notes });
    },
  });
}
