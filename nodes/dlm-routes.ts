import type { NodeAPI } from 'node-red';
import { validateSite } from '../lib/dlm/site';
import { rotationFindings } from '../lib/dlm/site/rotation-check';
import { adminRoute } from './shared/admin-routes';
import type { CentralSystemNode } from './types';

/** Editor helper of the load manager node: the site checked as it is being edited. */
export function registerDlmRoutes(RED: NodeAPI): void {
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
