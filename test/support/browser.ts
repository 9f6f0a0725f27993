import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import type {
  SimulatedChargePoint,
  SimulatedChargePointOptions,
  TransactionEvent,
} from '../../sim/charge-point';
import { waitFor } from './events';
import { type AdminUser, type NodeRed, useNodeRed } from './node-red';
import { freePort } from './ports';
import { repoRoot } from './repo';
import { dialIn } from './sim-chargers';

/** Where the browser tests save their screenshots (git-ignored): for a reviewer to look at. */
export const screenshotDir = join(repoRoot, 'test-results', 'screenshots');

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it), or AMPFLOW_CHROMIUM. */
export function chromiumPath(): string {
  const path = process.env.AMPFLOW_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install it (Debian: apt-get install chromium) or set AMPFLOW_CHROMIUM to its path`,
    );
  }
  return path;
}

/** A headless Chromium; close it in an after hook. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  // `npm run docs:images`: the pictures of the README and docs/ come from the running demo.
  if (process.env.AMPFLOW_DOCS_IMAGES && DOCS_IMAGES.has(name)) {
    mkdirSync(docsImageDir, { recursive: true });
    copyFileSync(path, join(docsImageDir, `${name}.png`));
  }
  return path;
}

/** The screenshots the README and docs/ show, written to docs/images/ by `npm run docs:images`. */
export const DOCS_IMAGES = new Set([
  'demo-editor',
  'demo-dashboard',
  'demo-dashboard-phone',
  'dlm-dialog-circuits',
  'dlm-dialog-home',
  'home-phone',
  'home-phone-de',
]);
export const docsImageDir = join(repoRoot, 'docs', 'images');

/** Collects the page's console errors and uncaught exceptions, to assert there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // "Failed to load resource" names no resource: the location does.
    const where = message.location()?.url;
    errors.push(
      `console: ${message.text()}${where && /Failed to load resource/.test(message.text()) ? ` (${where})` : ''}`,
    );
  });
  // With its stack: an error inside Node-RED's editor says where (Node-RED 5's "Cannot read
  // properties of undefined (reading 'html')" was its tip timer: see writeEditorSettings).
  page.on('pageerror', (error) => errors.push(`page error: ${error.stack ?? error.message}`));
  return errors;
}

/**
 * Opens the Node-RED editor at `url` and resolves once it has finished loading: the node types
 * are registered, the header toolbar is shown and the loading bar is gone (the editor picks its
 * first sidebar tab just before, so a test's own choice of tab is not undone).
 */
export async function openEditor(page: Page, url: string, nodeType: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction((type) => {
    const red = (window as unknown as { RED?: { nodes?: { getType?: (t: string) => unknown } } }).RED;
    const toolbar = document.querySelector<HTMLElement>('.red-ui-header-toolbar');
    const loading = document.querySelector<HTMLElement>('#red-ui-loading-progress');
    return (
      !!red?.nodes?.getType?.(type) &&
      !!toolbar &&
      toolbar.offsetParent !== null &&
      (!loading || loading.offsetParent === null)
    );
  }, nodeType);
}

/**
 * The editor's `RED` object inside `page.evaluate` callbacks (they run in the page, so they
 * cannot call helpers from here). The editor's API is untyped here: each test uses a few calls
 * and the browser checks them.
 */
// biome-ignore lint/suspicious/noExplicitAny: the editor's own API, untyped in this project
export type EditorRed = any;
/** The page's window with the editor loaded: `(window as EditorWindow).RED`. */
export type EditorWindow = Window & { RED: EditorRed };

/**
 * A new page of `browser` (1400 px wide) whose console errors are collected, with the default
 * timeout for its waits: what every browser test starts from.
 */
export async function openPage(
  browser: Browser,
  options: { height?: number; timeoutMs?: number; timezoneId?: string; locale?: string } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({
    viewport: { width: 1400, height: options.height ?? 900 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
    // The browser's language (navigator.language): the one the editor speaks.
    ...(options.locale ? { locale: options.locale } : {}),
  });
  page.setDefaultTimeout(options.timeoutMs ?? 20000);
  return { page, errors: collectPageErrors(page) };
}

/**
 * FlowFuse Dashboard 2.0, from the repository's devDependencies. Node-RED finds it by itself: it
 * scans every node_modules above its own core nodes, and both Node-RED 4 (the devDependency) and
 * Node-RED 5 (.ci/node-red-5, AMPFLOW_NODE_RED_DIR) live below the repository's node_modules. The
 * browser suites check that it was found.
 */
export const DASHBOARD = '@flowfuse/node-red-dashboard';

export interface BrowserSuiteOptions {
  /** The flow deployed at start, given the free port for its central system; none by default. */
  flow?: (ocppPort: number) => unknown[];
  /** Users of Node-RED's adminAuth (see NodeRedOptions.users); without, the editor needs no login. */
  users?: AdminUser[];
  /** Simulated chargers that dial the flow's central system (once it listens) before the browser starts. */
  chargers?: string[];
  /** The same for every charger, or per identity. */
  chargerOptions?:
    | Partial<SimulatedChargePointOptions>
    | ((identity: string) => Partial<SimulatedChargePointOptions>);
  /** The page's height, default timeout, time zone and language (openPage). */
  page?: { height?: number; timeoutMs?: number; timezoneId?: string; locale?: string };
}

/** What a browser suite's tests use; the getters fail before the suite's before hooks have run. */
export interface BrowserSuite {
  nodeRed(): NodeRed;
  /** The port given to the flow's central system. */
  ocppPort(): number;
  /** The simulated chargers that dialled in, in the order of `chargers`. */
  chargers: SimulatedChargePoint[];
  page(): Page;
  /** The suite's Chromium, for more pages (openPage) sharing its Node-RED. */
  browser(): Browser;
  /** The page's console errors and uncaught exceptions so far (a test may empty it). */
  errors(): string[];
}

/**
 * Mocha hooks for a browser test: a Node-RED (this package and FlowFuse Dashboard installed)
 * running `flow`, the simulated `chargers` dialled into its central system, and a page of a
 * headless Chromium; all closed after the suite.
 */
export function useBrowserSuite(options: BrowserSuiteOptions = {}): BrowserSuite {
  let ocppPort = 0;
  let browser: Browser | undefined;
  let opened: { page: Page; errors: string[] } | undefined;
  const chargers: SimulatedChargePoint[] = [];
  // Registered first, so it runs before Node-RED is stopped.
  after(async () => {
    await browser?.close();
    for (const cp of chargers) await cp.close();
  });
  const nodeRed = useNodeRed(async () => {
    ocppPort = await freePort();
    return {
      flow: options.flow?.(ocppPort) ?? [],
      ...(options.users ? { users: options.users } : {}),
      modules: [DASHBOARD],
    };
  });
  before(async function () {
    this.timeout(60000);
    if (options.chargers) {
      await nodeRed().process.waitForLine(new RegExp(`central system listening on ws://.*:${ocppPort}/`));
      await dialIn(`ws://127.0.0.1:${ocppPort}/`, options.chargers, chargers, options.chargerOptions);
    }
    browser = await launchBrowser();
    opened = await openPage(browser, options.page);
  });
  const page = () => {
    if (!opened) throw new Error('the browser did not start');
    return opened;
  };
  return {
    nodeRed,
    ocppPort: () => ocppPort,
    chargers,
    page: () => page().page,
    browser: () => {
      if (!browser) throw new Error('the browser did not start');
      return browser;
    },
    errors: () => page().errors,
  };
}

/** A node of an example flow, as its JSON has it. */
export interface ExampleNode {
  id: string;
  type: string;
  wires?: string[][];
  [setting: string]: unknown;
}

/**
 * The example "Facility dashboard" in a browser suite (useBrowserSuite): its central system on the
 * free port, the flow then changed by `edit`; CP-1 and CP-2 dial in, each wired as the example's
 * site says (CP-2's L1 on the grid's L2: STR); before the tests CP-1 charges (TAG-1) and the page
 * opens the dashboard.
 */
export function useFacilityDashboard(
  edit: (flow: ExampleNode[]) => void,
  page: BrowserSuiteOptions['page'],
): BrowserSuite {
  const suite = useBrowserSuite({
    flow: (ocppPort) => {
      const flow = JSON.parse(
        readFileSync(join(repoRoot, 'examples', 'Facility dashboard.json'), 'utf8'),
      ) as ExampleNode[];
      for (const node of flow) if (node.type === 'ampflow-central-system') node.port = String(ocppPort);
      edit(flow);
      return flow;
    },
    chargers: ['CP-1', 'CP-2'],
    chargerOptions: (identity) => ({
      configuration: {
        MeterValueSampleInterval: 1,
        ConnectorPhaseRotation: identity === 'CP-2' ? '0.STR,1.STR' : '0.RST,1.RST',
      },
    }),
    ...(page ? { page } : {}),
  });
  before(async () => {
    const cp1 = suite.chargers[0] as SimulatedChargePoint;
    cp1.plugIn(1, { phases: 3, maxCurrentA: 16 });
    const assigned = waitFor<[TransactionEvent]>(cp1, 'transactionId', () => true, 10000);
    await cp1.startTransaction(1, 'TAG-1');
    await assigned;
    await suite.page().goto(`${suite.nodeRed().url}/dashboard`);
  });
  return suite;
}
