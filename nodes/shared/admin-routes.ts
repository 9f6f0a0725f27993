import type { NodeAPI } from 'node-red';

/** What a route handler reads of an admin request (Express's, narrowed). */
export interface AdminRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
}

/** What a route handler uses of an admin response (Express's, narrowed). */
export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
  type(type: string): AdminResponse;
  set(header: string, value: string): AdminResponse;
  send(body: string): void;
}

/** One editor helper on Node-RED's admin HTTP API. */
export interface AdminRoute {
  method: 'get' | 'post';
  /** Under the admin root, starting with the node type it helps: `/ampflow-dlm/validate`. */
  path: `/ampflow-${string}`;
  /** `<type>.read` to look, `<type>.write` to change: the permissions Node-RED's adminAuth grants. */
  permission: `ampflow-${string}.${'read' | 'write'}`;
  /** Answers the request; when it throws or its promise rejects, the editor gets 500 `{error}` (logged). */
  handle(req: AdminRequest, res: AdminResponse): unknown;
}

/**
 * The one way this package adds admin routes: `RED.httpAdmin` behind
 * `RED.auth.needsPermission(...)`, so no editor helper is reachable without the node type's
 * permission, and a failed answer is a JSON error the editor can show and one line in the log.
 */
export function adminRoute(RED: NodeAPI, route: AdminRoute): void {
  RED.httpAdmin[route.method](
    route.path,
    RED.auth.needsPermission(route.permission),
    (req: AdminRequest, res: AdminResponse) => {
      const failed = (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        RED.log.error(`${route.method.toUpperCase()} ${route.path} failed: ${message}`);
        res.status(500).json({ error: message });
      };
      try {
        const answered = route.handle(req, res);
        if (answered instanceof Promise) answered.catch(failed);
      } catch (err) {
        failed(err);
      }
    },
  );
}
