import { join } from 'node:path';
import { js, type NodeRed, startNodeRed } from '../../support/node-red';
import { packageJson, repoRoot } from '../../support/repo';

/** An admin endpoint a node module registers under RED.httpAdmin, and the permission it asks. */
export interface AdminRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** What RED.auth.needsPermission was given; undefined when the route asks for none. */
  permission?: string;
}

/**
 * Every admin endpoint the package registers, found by running each node module's registration
 * against a stand-in RED that records RED.httpAdmin calls: a route added later is found
 * without anyone updating a list.
 */
export function registeredAdminRoutes(): AdminRoute[] {
  const routes: AdminRoute[] = [];
  const permissionOf = new WeakMap<object, string>();
  // Anything else a module touches at registration is a callable no-op.
  const anything: object = new Proxy(() => anything, {
    get: (_target, key) => (key === Symbol.toPrimitive ? () => '' : anything),
    apply: () => anything,
  });
  const record =
    (method: AdminRoute['method']) =>
    (path: string, ...handlers: object[]) => {
      const permission = handlers.map((handler) => permissionOf.get(handler)).find(Boolean);
      routes.push({ method, path, ...(permission ? { permission } : {}) });
    };
  const RED = new Proxy(
    {
      httpAdmin: { get: record('get'), post: record('post'), put: record('put'), delete: record('delete') },
      auth: {
        needsPermission: (permission: string) => {
          const middleware = () => undefined;
          permissionOf.set(middleware, permission);
          return middleware;
        },
      },
    },
    { get: (target, key) => (key in target ? target[key as keyof typeof target] : anything) },
  );
  for (const file of Object.values(packageJson['node-red'].nodes as Record<string, string>)) {
    const source = join(repoRoot, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    const register = require(source) as (red: unknown) => void;
    register(RED);
  }
  return routes;
}

/** Bearer tokens the adminAuth of the secured Node-RED knows. */
export const TOKENS = {
  /** Every permission. */
  admin: 'admin-token',
  /** Exactly the permission after the colon, e.g. `only:ampflow-meter.read`. */
  only: (permission: string) => `only:${permission}`,
};

/** An adminAuth that knows no user, only the bearer tokens of TOKENS. */
const ADMIN_AUTH = js(`{
    type: 'credentials',
    users: [],
    tokens: (token) =>
      Promise.resolve(
        token === '${TOKENS.admin}'
          ? { username: 'admin', permissions: '*' }
          : token.startsWith('only:')
            ? { username: 'scoped', permissions: [token.slice(5)] }
            : null,
      ),
  }`);

/**
 * A real Node-RED process with adminAuth and the package loaded from its TypeScript sources
 * (package: 'sources', module `ampflow-under-test`): the test runs what is in nodes/ now, with no
 * build.
 */
export function startSecuredNodeRed(): Promise<NodeRed> {
  return startNodeRed({ package: 'sources', settings: { adminAuth: ADMIN_AUTH } });
}

/**
 * The flows as an admin exports them (GET /flows): their text, and the node `id` in it (whose
 * fields must hold no secret).
 */
export async function exportedNode(
  red: NodeRed,
  id: string,
): Promise<{ text: string; node: Record<string, unknown> }> {
  const flows = await red.request('/flows', { token: TOKENS.admin });
  if (flows.status !== 200) throw new Error(`GET /flows answered ${flows.status}`);
  const text = await flows.text();
  const node = (JSON.parse(text) as { id: string }[]).find((n) => n.id === id);
  if (!node) throw new Error(`the exported flows have no node ${id}`);
  return { text, node: node as Record<string, unknown> };
}
