import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageJson, repoRoot } from '../../support/demo';
import { nodeRedCli } from '../../support/node-red';
import { freePort } from '../../support/ports';
import { type RunningProcess, run } from '../../support/process';

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

/** A real Node-RED process with adminAuth, the package loaded from its TypeScript sources. */
export interface SecuredNodeRed {
  process: RunningProcess;
  url: string;
  userDir: string;
  /** fetch() against the admin API, with `Authorization: Bearer <token>` when a token is given. */
  request(path: string, options?: { token?: string; method?: string; body?: unknown }): Promise<Response>;
  dispose(): Promise<void>;
}

/** Bearer tokens the adminAuth of the test settings knows. */
export const TOKENS = {
  /** Every permission. */
  admin: 'admin-token',
  /** Exactly the permission after the colon, e.g. `only:ampflow-meter.read`. */
  only: (permission: string) => `only:${permission}`,
};

const SETTINGS = `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'a-secret-for-the-credentials-file',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: { tours: false },
  adminAuth: {
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
  },
};
`;

/**
 * Installs the package into a temporary user directory as Node-RED would find an installed one,
 * except that each node's .js is a one-line shim requiring its TypeScript source (Node-RED runs
 * with tsx's require hook): the test runs what is in nodes/ now, with no build.
 */
export async function startSecuredNodeRed(): Promise<SecuredNodeRed> {
  const userDir = mkdtempSync(join(tmpdir(), 'ampflow-secured-'));
  const pkg = join(userDir, 'node_modules', 'ampflow-under-test');
  mkdirSync(join(pkg, 'nodes'), { recursive: true });
  const nodes: Record<string, string> = {};
  for (const type of Object.keys(packageJson['node-red'].nodes as Record<string, string>)) {
    nodes[type] = `nodes/${type}.js`;
    writeFileSync(
      join(pkg, 'nodes', `${type}.js`),
      `module.exports = require(${JSON.stringify(join(repoRoot, 'nodes', `${type}.ts`))});\n`,
    );
    symlinkSync(join(repoRoot, 'nodes', `${type}.html`), join(pkg, 'nodes', `${type}.html`));
  }
  symlinkSync(join(repoRoot, 'nodes', 'locales'), join(pkg, 'nodes', 'locales'), 'dir');
  symlinkSync(join(repoRoot, 'icons'), join(pkg, 'icons'), 'dir');
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'ampflow-under-test', version: packageJson.version, 'node-red': { nodes } }),
  );
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'secured', private: true }));
  writeFileSync(join(userDir, 'settings.js'), SETTINGS);

  const port = await freePort();
  const process_ = run(
    process.execPath,
    [
      '--require',
      require.resolve('tsx/cjs'),
      nodeRedCli(),
      '--userDir',
      userDir,
      '--settings',
      join(userDir, 'settings.js'),
      '--port',
      String(port),
    ],
    { cwd: repoRoot },
  );
  const url = `http://127.0.0.1:${port}`;
  const dispose = async () => {
    await process_.stop('SIGTERM');
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    await process_.waitForLine(/\[info\] Server now running at/, 60000);
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    process: process_,
    url,
    userDir,
    request: (path, options = {}) =>
      fetch(`${url}${path}`, {
        method: options.method ?? 'GET',
        headers: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          'Node-RED-API-Version': 'v1',
          Accept: 'application/json',
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      }),
    dispose,
  };
}
