/**
 * Node-RED for the tests and benchmarks: which install runs (nodeRedDir) and the one launcher
 * (startNodeRed / useNodeRed) every e2e test, security test and benchmark starts it with. The demo
 * (`npm start`, scripts/start.mjs) is its own entry point; test/support/demo.ts runs it through the
 * same process handling (watchNodeRed).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { composeEditorHtml } from '../../nodes/shared/editor-html';
import { useMade } from './hooks';
import { freePort } from './ports';
import { type RunningProcess, run } from './process';
import { packageJson, repoRoot } from './repo';

/**
 * The Node-RED install the node and e2e tests run against: the devDependency (Node-RED 4.1) by
 * default, or the one named by AMPFLOW_NODE_RED_DIR (the Node-RED 5 leg of .ci/run).
 */
export function nodeRedDir(): string {
  const fromEnv = process.env.AMPFLOW_NODE_RED_DIR;
  return fromEnv ? fromEnv : dirname(require.resolve('node-red/package.json'));
}

export function nodeRedVersion(): string {
  return JSON.parse(readFileSync(join(nodeRedDir(), 'package.json'), 'utf8')).version;
}

/** The module `node-red-node-test-helper` loads as the runtime (node-red's `main`). */
export function nodeRedRuntimePath(): string {
  return require.resolve(nodeRedDir());
}

/** Node-RED's command-line entry, as `npm start` and the e2e tests run it. */
export function nodeRedCli(dir = nodeRedDir()): string {
  return join(dir, 'red.js');
}

/** A settings.js value written as JavaScript source instead of JSON (an adminAuth with functions, say). */
export class JsSource {
  constructor(readonly source: string) {}
}

/** `settings: { adminAuth: js('{ type: "credentials", ... }') }`. */
export const js = (source: string) => new JsSource(source);

/** A user of a credentials adminAuth: permissions '*', 'read', or a list such as ['flows.read']. */
export interface AdminUser {
  username: string;
  password: string;
  permissions: string | string[];
}

export interface NodeRedOptions {
  /** The flow deployed at start (flows.json); none by default. */
  flow?: unknown[];
  /**
   * How the package is installed into the user directory, where Node-RED finds installed modules:
   * - 'dist' (default): the checkout linked in, as scripts/start.mjs does (runs dist/: build first);
   * - 'sources': a package `ampflow-under-test` of one-line shims requiring nodes/*.ts, Node-RED
   *   running with tsx's require hook: what is in nodes/ now, with no build;
   * - { dir }: a package built elsewhere linked in (the benchmarks build their own copy);
   * - 'installed': nothing: the user directory already has it (installed from the packed tarball).
   */
  package?: 'dist' | 'sources' | 'installed' | { dir: string };
  /** Users of a credentials adminAuth (the editor's login, token()). Without it the editor needs none. */
  users?: AdminUser[];
  /**
   * settings.js entries over the defaults, each replacing a top-level key: a JSON value, or
   * js('...') for source (an adminAuth with a tokens function, httpNodeAuth, ...). The launcher
   * owns `logging`: it waits for Node-RED's info lines.
   */
  settings?: Record<string, unknown>;
  /** The Node-RED install to run (default nodeRedDir(): AMPFLOW_NODE_RED_DIR or the devDependency). */
  nodeRedDir?: string;
  /**
   * The user directory, created if missing and left in place by dispose(); by default a fresh
   * temporary one that dispose() removes.
   */
  userDir?: string;
  /** Node modules besides the package that must have loaded, checked at start (FlowFuse Dashboard). */
  modules?: string[];
  /** Node.js options for the Node-RED process (a benchmark's `--cpu-prof`). */
  nodeOptions?: string[];
  /**
   * What startNodeRed waits for: its flows started (default), or only its server listening (a
   * test of requests that arrive before the flows are loaded).
   */
  until?: 'flows' | 'server';
}

/** A running Node-RED process, as every launcher here returns it. */
export interface NodeRed {
  process: RunningProcess;
  /** http://127.0.0.1:<port>: the editor, the admin API and the flow's HTTP endpoints. */
  url: string;
  userDir: string;
  /** Log lines at warn or error level, apart from Node-RED's start-up notices. */
  problems(): string[];
  /**
   * fetch() against `url` + `path` with the admin API's headers (JSON, API version v1), a JSON
   * body when given and `Authorization: Bearer <token>` when a token is given.
   */
  request(path: string, options?: RequestOptions): Promise<Response>;
  /**
   * An admin API access token for a user (adminAuth), as the editor's login gets it; `scope` must be
   * within the user's permissions (space separated).
   */
  token(username: string, password: string, scope?: string): Promise<string>;
  /** Deploys `flow` in full (POST /flows) and resolves once Node-RED has started it. */
  deploy(flow: unknown[], options?: { token?: string }): Promise<void>;
  /** Stops Node-RED if still running (SIGTERM, then kills it) and removes a temporary user directory. */
  dispose(): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Warnings every fresh Node-RED user directory prints at start, whatever is installed. Tests
 * treat any other warn or error line as a failure.
 */
const STARTUP_NOTICES = [
  /\[warn\] Projects disabled : /,
  /\[warn\] Encrypted credentials not found$/,
  /\[warn\]\s*-*\s*$/,
];

/** adminAuth without https: Node-RED's own advice, not a problem of the flow. */
const ADMIN_AUTH_ADVICE = /\[warn\] .*(adminAuth|https|credentialSecret)/i;

const STARTED_FLOWS = /\[info\] Started flows/;

const DEFAULT_SETTINGS: Record<string, unknown> = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'ampflow-tests',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  // The runtime's language (log lines, node statuses): English whatever the machine's LANG, as the
  // tests wait for English lines.
  lang: 'en-US',
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: {
    tours: false,
    palette: {
      categories: [
        'EV charging',
        'dashboard 2',
        'common',
        'function',
        'network',
        'sequence',
        'parser',
        'storage',
      ],
      // No catalogue from the internet (loopback only).
      catalogues: [],
    },
  },
  externalModules: { palette: { allowInstall: false } },
};

/** The adminAuth of `users`: they log in with their password and get their permissions. */
function adminAuthOf(users: AdminUser[]): JsSource {
  return js(`{
    type: 'credentials',
    users: async (username) => {
      const user = ${JSON.stringify(users)}.find((u) => u.username === username);
      return user ? { username, permissions: user.permissions } : null;
    },
    authenticate: async (username, password) => {
      const user = ${JSON.stringify(users)}.find((u) => u.username === username && u.password === password);
      return user ? { username, permissions: user.permissions } : null;
    },
  }`);
}

/**
 * The editor's settings of each user (the anonymous one, '_', and every adminAuth user), unless the
 * user directory has them already: tips off. Node-RED 5's editor starts its tip timer (1 s) before
 * it builds the info sidebar the tip is shown in, and builds that only once its keymap has loaded:
 * on a busy machine the timer comes first and the page throws "Cannot read properties of undefined
 * (reading 'html')" (a CI run of the editor's language tests failed on it, and one of the demo's
 * editor on Node-RED 5: test/support/demo.ts writes them too). Nothing here tests tips.
 */
export function writeEditorSettings(userDir: string, users: AdminUser[] = []): void {
  const file = join(userDir, '.config.users.json');
  if (existsSync(file)) return;
  const editor = { view: { 'view-show-tips': false } };
  const settings = Object.fromEntries(
    ['_', ...users.map((user) => user.username)].map((name) => [name, { editor }]),
  );
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

function settingsSource(settings: Record<string, unknown>): string {
  const entries = Object.entries(settings).map(
    ([key, value]) =>
      `  ${JSON.stringify(key)}: ${value instanceof JsSource ? value.source : JSON.stringify(value)},`,
  );
  return `// Written by test/support/node-red.ts for one test run.\nmodule.exports = {\n${entries.join('\n')}\n};\n`;
}

const SOURCES_MODULE = 'ampflow-under-test';

/** Installs the package into `userDir`'s node_modules; returns the module name Node-RED lists it under. */
function installPackage(userDir: string, install: NonNullable<NodeRedOptions['package']>): string {
  let name: string = packageJson.name;
  if (install === 'installed') return name;
  if (install === 'sources') {
    name = SOURCES_MODULE;
    const pkg = join(userDir, 'node_modules', name);
    mkdirSync(join(pkg, 'nodes'), { recursive: true });
    const nodes: Record<string, string> = {};
    for (const type of Object.keys(packageJson['node-red'].nodes as Record<string, string>)) {
      nodes[type] = `nodes/${type}.js`;
      writeFileSync(
        join(pkg, 'nodes', `${type}.js`),
        `module.exports = require(${JSON.stringify(join(repoRoot, 'nodes', `${type}.ts`))});\n`,
      );
      // The editor as the build writes it: put together from its parts (nodes/editor/<type>/).
      writeFileSync(
        join(pkg, 'nodes', `${type}.html`),
        composeEditorHtml(join(repoRoot, 'nodes', `${type}.html`)),
      );
    }
    symlinkSync(join(repoRoot, 'nodes', 'locales'), join(pkg, 'nodes', 'locales'), 'dir');
    symlinkSync(join(repoRoot, 'icons'), join(pkg, 'icons'), 'dir');
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name, version: packageJson.version, 'node-red': { nodes } }),
    );
  } else {
    const target = install === 'dist' ? repoRoot : install.dir;
    if (!existsSync(join(target, 'dist', 'nodes', 'ampflow-central-system.js'))) {
      throw new Error(`${join(target, 'dist')} is missing: run \`npm run build\` before the e2e tests`);
    }
    const link = join(userDir, 'node_modules', ...name.split('/'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
  }
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({ name: 'ampflow-test-user-dir', private: true, dependencies: { [name]: '*' } }),
  );
  return name;
}

/** Starts Node-RED on a free port as `options` say; resolves once its flows have started. */
export async function startNodeRed(options: NodeRedOptions = {}): Promise<NodeRed> {
  const ownUserDir = options.userDir === undefined;
  const userDir = options.userDir ?? mkdtempSync(join(tmpdir(), 'ampflow-node-red-'));
  const removeUserDir = () => {
    if (ownUserDir) rmSync(userDir, { recursive: true, force: true });
  };
  const install = options.package ?? 'dist';
  const users = options.users ?? [];
  if (options.settings && 'logging' in options.settings)
    throw new Error('startNodeRed: the launcher owns `logging` (it waits for info lines)');
  try {
    mkdirSync(userDir, { recursive: true });
    installPackage(userDir, install);
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flow ?? []));
    writeEditorSettings(userDir, users);
    writeFileSync(
      join(userDir, 'settings.js'),
      settingsSource({
        ...DEFAULT_SETTINGS,
        ...(users.length > 0 ? { adminAuth: adminAuthOf(users) } : {}),
        ...options.settings,
      }),
    );
  } catch (err) {
    removeUserDir();
    throw err;
  }
  const port = await freePort();
  const fromSources = install === 'sources';
  const process_ = run(
    process.execPath,
    [
      ...(options.nodeOptions ?? []),
      ...(fromSources ? ['--require', require.resolve('tsx/cjs')] : []),
      nodeRedCli(options.nodeRedDir),
      '--userDir',
      userDir,
      '--settings',
      join(userDir, 'settings.js'),
      '--port',
      String(port),
    ],
    // tsx reads the checkout's tsconfig.json from the working directory.
    { cwd: fromSources ? repoRoot : userDir },
  );
  const red = await watchNodeRed(process_, {
    url: `http://127.0.0.1:${port}`,
    userDir,
    ready: [
      ...(options.until === 'server' ? [] : [{ pattern: STARTED_FLOWS, timeoutMs: 60000 }]),
      { pattern: /\[info\] Server now running at/, timeoutMs: 30000 },
    ],
    notices: [...STARTUP_NOTICES, ADMIN_AUTH_ADVICE],
    cleanup: removeUserDir,
  });
  const admin = users.find((user) => user.permissions === '*' || user.permissions === 'read');
  const token = admin ? await red.token(admin.username, admin.password) : undefined;
  for (const module of options.modules ?? []) {
    const response = await red.request(`/nodes/${module}`, token ? { token } : {});
    if (response.status !== 200) {
      await red.dispose();
      throw new Error(
        `Node-RED did not load ${module} (${response.status}; a devDependency? run npm install); its log:\n${process_.lines.join('\n')}`,
      );
    }
  }
  return red;
}

/**
 * A Node-RED process started by whoever started it (startNodeRed, scripts/start.mjs), once each of
 * its `ready` lines was printed; if it does not come up it is stopped and cleaned up, so nothing
 * is left running behind a failed start.
 */
export async function watchNodeRed(
  process_: RunningProcess,
  options: {
    url: string;
    userDir: string;
    ready: { pattern: RegExp; timeoutMs?: number }[];
    /** Warn lines that are not problems (default: Node-RED's start-up notices). */
    notices?: RegExp[];
    /** Runs after the process has stopped (removes what the starter made). */
    cleanup?: () => void;
  },
): Promise<NodeRed> {
  const { url, userDir } = options;
  const notices = options.notices ?? STARTUP_NOTICES;
  const dispose = async () => {
    await process_.stop('SIGTERM');
    options.cleanup?.();
  };
  try {
    for (const { pattern, timeoutMs } of options.ready) await process_.waitForLine(pattern, timeoutMs);
  } catch (err) {
    await dispose();
    throw err;
  }
  const request = (path: string, request: RequestOptions = {}) =>
    fetch(`${url}${path}`, {
      method: request.method ?? 'GET',
      headers: {
        'Node-RED-API-Version': 'v1',
        Accept: 'application/json',
        ...(request.token ? { Authorization: `Bearer ${request.token}` } : {}),
        ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...request.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
  return {
    process: process_,
    url,
    userDir,
    problems: () =>
      process_.lines.filter(
        (line) => /\[(warn|error)\]/.test(line) && !notices.some((notice) => notice.test(line)),
      ),
    request,
    async token(username, password, scope = '*') {
      const response = await request('/auth/token', {
        method: 'POST',
        body: { client_id: 'node-red-admin', grant_type: 'password', scope, username, password },
      });
      if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status}`);
      return ((await response.json()) as { access_token: string }).access_token;
    },
    async deploy(flow, deployOptions = {}) {
      const started = process_.nextLine(STARTED_FLOWS);
      started.catch(() => undefined); // awaited below; a refused deploy fails first
      const response = await request('/flows', {
        method: 'POST',
        body: flow,
        headers: { 'Node-RED-Deployment-Type': 'full' },
        ...(deployOptions.token ? { token: deployOptions.token } : {}),
      });
      assert.equal(response.status, 204, await response.text());
      await started;
    },
    dispose,
  };
}

/**
 * Mocha hooks that run `start` before the suite (within `timeoutMs`) and dispose of what it
 * started after; returns a getter for it.
 */
export function useStarted<T extends { dispose(): Promise<void> }>(
  start: () => Promise<T>,
  timeoutMs: number,
): () => T {
  return useMade('all', start, (started) => started.dispose(), {
    missing: 'Node-RED did not start',
    timeoutMs,
  });
}

/** Mocha hooks that start a Node-RED for the suite and stop it after; returns a getter. */
export function useNodeRed(options: NodeRedOptions | (() => Promise<NodeRedOptions>) = {}): () => NodeRed {
  return useStarted(
    async () => startNodeRed(typeof options === 'function' ? await options() : options),
    90000,
  );
}
