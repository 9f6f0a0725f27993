import type { NodeAPI } from 'node-red';
import { validateSite } from '../lib/dlm/site';
import { adminRoute } from './shared/admin-routes';

/** Editor helper of the load manager node: the site checked as it is being edited. */
export function registerDlmRoutes(RED: NodeAPI): void {
  adminRoute(RED, {
    method: 'post',
    path: '/ampflow-dlm/validate',
    permission: 'ampflow-dlm.read',
    // Every problem and warning, named; the site itself stays in the editor.
    handle: (req, res) => {
      const { problems, warnings } = validateSite(req.body);
      res.json({ problems, warnings });
    },
  });
}
