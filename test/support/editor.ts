import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageJson, repoRoot } from './demo';
import { nodeRedCli } from './node-red';
import { freePort } from './ports';
import { type RunningProcess, run } from './process';

/**
 * A real Node-RED process for the browser tests, with this package installed (linked, as
 * scripts/start.mjs does) and FlowFuse Dashboard 2.0 from the repository's devDependencies. Node-RED
 * finds the dashboard by itself: it scans every node_modules above its own core nodes, and both
 * Node-RED 4 (the devDependency) and Node-RED 5 (.ci/node-red-5, AMPFLOW_NODE_RED_DIR) live below
 * the repository's node_modules. `start` checks that it was found.
 */
export interface EditorOptions {
  /** The flow deployed at start (flows.json); none by default. */
  flow?: unknown[];
  /**
   * Users of Node-RED's adminAuth, each with a password and permissions ('*', 'read', or a list
   * such as ['flows.read']). Without it the editor needs no login.
   */
  users?: { username: string; password: string; permissions: string | string[] }[];
}

export interface Editor {
  process: RunningProcess;
  url: string;
  userDir: string;
  /** Log lines at warn or error level, apart from Node-RED's start-up notices. */
  problems(): string[];
  /**
   * An admin API access token for a user (adminAuth), as the editor's login gets it; `scope` must be
   * within the user's permissions (space separated).
   */
  token(username: string, password: string, scope?: string): Promise<string>;
  dispose(): Promise<void>;
}

const DASHBOARD = '@flowfuse/node-red-dashboard';

const STARTUP_NOTICES = [
  /\[warn\] Projects disabled : /,
  /\[warn\] Encrypted credentials not found$/,
  /\[warn\]\s*-*\s*$/,
  // adminAuth without https: Node-RED's own advice, not a problem of the flow.
  /\[warn\] .*(adminAuth|https|credentialSecret)/i,
];

export async function startEditor(options: EditorOptions = {}): Promise<Editor> {
  if (!existsSync(join(repoRoot, 'dist', 'nodes', 'ampflow-central-system.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the browser tests');
  }
  const userDir = mkdtempSync(join(tmpdir(), 'ampflow-editor-'));
  const link = join(userDir, 'node_modules', ...packageJson.name.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(repoRoot, link, 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({ name: 'ampflow-editor-test', private: true, dependencies: { [packageJson.name]: '*' } }),
  );
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flow ?? []));
  const users = options.users ?? [];
  writeFileSync(
    join(userDir, 'settings.js'),
    `const users = ${JSON.stringify(users)};
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'ampflow-browser-tests',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: {
    tours: false,
    palette: {
      categories: ['EV charging', 'dashboard 2', 'common', 'function', 'network', 'sequence', 'parser', 'storage'],
      // No catalogue from the internet (loopback only).
      catalogues: [],
    },
  },
  externalModules: { palette: { allowInstall: false } },
  ${
    users.length === 0
      ? ''
      : `adminAuth: {
    type: 'credentials',
    users: async (username) => {
      const user = users.find((u) => u.username === username);
      return user ? { username, permissions: user.permissions } : null;
    },
    authenticate: async (username, password) => {
      const user = users.find((u) => u.username === username && u.password === password);
      return user ? { username, permissions: user.permissions } : null;
    },
  },`
  }
};
`,
  );
  const port = await freePort();
  const process_ = run(
    process.execPath,
    [nodeRedCli(), '--userDir', userDir, '--settings', join(userDir, 'settings.js'), '--port', String(port)],
    { cwd: userDir },
  );
  const url = `http://127.0.0.1:${port}`;
  const dispose = async () => {
    await process_.stop('SIGTERM');
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    await process_.waitForLine(/\[info\] Started flows/, 60000);
    await process_.waitForLine(/\[info\] Server now running at/, 30000);
  } catch (err) {
    await dispose();
    throw err;
  }
  const editor: Editor = {
    process: process_,
    url,
    userDir,
    problems: () =>
      process_.lines.filter(
        (line) => /\[(warn|error)\]/.test(line) && !STARTUP_NOTICES.some((notice) => notice.test(line)),
      ),
    async token(username, password, scope = '*') {
      const response = await fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          client_id: 'node-red-admin',
          grant_type: 'password',
          scope,
          username,
          password,
        }),
      });
      if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status}`);
      return ((await response.json()) as { access_token: string }).access_token;
    },
    dispose,
  };
  const admin = users.find((user) => user.permissions === '*' || user.permissions === 'read');
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (admin) headers.Authorization = `Bearer ${await editor.token(admin.username, admin.password)}`;
  const dashboard = await fetch(`${url}/nodes/${DASHBOARD}`, { headers });
  if (dashboard.status !== 200) {
    await dispose();
    throw new Error(
      `Node-RED did not load ${DASHBOARD} (${dashboard.status}; it is a devDependency: run npm install); its log:\n${process_.lines.join('\n')}`,
    );
  }
  return editor;
}

/** Mocha hooks that start a Node-RED for the suite and stop it after; returns a getter. */
export function useEditor(options: EditorOptions | (() => Promise<EditorOptions>) = {}): () => Editor {
  let editor: Editor | undefined;
  before(async function () {
    this.timeout(90000);
    editor = await startEditor(typeof options === 'function' ? await options() : options);
  });
  after(async () => {
    await editor?.dispose();
  });
  return () => {
    if (!editor) throw new Error('Node-RED did not start');
    return editor;
  };
}
