import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { upgradeNodeSettings } from '../lib/config-versions';
import { CentralSystem } from '../lib/ocpp/central-system';
import { parseSettings } from '../lib/ocpp/settings';
import { upstreamSettingsOfNode } from '../lib/upstream/node-settings';
import { UpstreamProxy } from '../lib/upstream/proxy';
import { filesRoute, registerCentralSystemRoutes } from './central-system-routes';
import { registerChargersSidebarRoute, watchChargers } from './chargers-sidebar';
import { message, useCatalog } from './shared/i18n';
import { nodeLogger } from './shared/logger';
import type {
  CentralSystemCredentials,
  CentralSystemNode,
  CentralSystemNodeDef,
  CentralSystemUser,
} from './types';

/**
 * Which central system of this Node-RED listens on which port, so that one that cannot listen
 * names the node holding the port (an example imported next to the demo, a copied flow).
 */
const portHolders = new Map<number, string>();

export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-central-system');
  function CentralSystemConfigNode(this: Node<CentralSystemCredentials>, def: CentralSystemNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as CentralSystemNode & Node<CentralSystemCredentials>;
    const users = new Set<CentralSystemUser>();
    // Thousands of chargers reconnecting after a restart would flood the editor with status
    // updates; they are gathered into one update per quarter second.
    let refreshTimer: NodeJS.Timeout | undefined;
    const refreshUsers = () => {
      refreshTimer ??= setTimeout(() => {
        refreshTimer = undefined;
        for (const user of users) user.refreshStatus();
      }, 250);
    };
    node.register = (user) => {
      users.add(user);
      user.refreshStatus();
    };
    node.deregister = (user) => {
      users.delete(user);
    };

    let centralSystem: CentralSystem;
    let upstream: UpstreamProxy | undefined;
    let port: number | undefined;
    try {
      // Saved by an older release: read in today's shape; by a newer one: not started (the catch).
      def = upgradeNodeSettings('ampflow-central-system', def);
      const shared = def.listen === 'shared';
      const options = parseSettings({ ...def, ...(node.credentials ?? {}) }, { sharedServer: shared });
      if (shared) {
        delete options.host;
        delete options.port;
        options.server = RED.server;
        options.path ??= '/ocpp';
        // Files (location "ampflow") under Node-RED's HTTP nodes, the port the chargers dial here.
        const nodeRoot = (RED.settings as { httpNodeRoot?: string | false }).httpNodeRoot;
        if (nodeRoot !== false)
          options.filesPath = `${(nodeRoot ?? '/').replace(/\/$/, '')}${filesRoute(def.id)}`;
      }
      const userDir = (RED.settings as { userDir?: string }).userDir;
      if (def.dataDirectory?.trim()) options.dataDirectory = def.dataDirectory.trim();
      else if (userDir) options.dataDirectory = join(userDir, 'ampflow', `central-system-${def.id}`);
      else node.warn(RED._('ampflow-central-system.warnings.noUserDir'));
      options.log = nodeLogger(node);
      port = options.server ? undefined : options.port;
      centralSystem = new CentralSystem(options);
      if (def.upstreamUrl?.trim()) {
        // The operator's backend: every charger is passed through to it (lib/upstream).
        const settings = upstreamSettingsOfNode(def, node.credentials ?? {});
        upstream = new UpstreamProxy(centralSystem, settings, { log: options.log });
        node.upstream = upstream;
      }
    } catch (err) {
      node.problem = (err as Error).message;
      node.error(`${RED._('ampflow-central-system.errors.notStarted')}: ${node.problem}`);
      return;
    }

    node.centralSystem = centralSystem;
    const stopWatching = watchChargers(centralSystem);
    centralSystem.on('state', refreshUsers);
    centralSystem.on('connect', refreshUsers);
    centralSystem.on('disconnect', refreshUsers);
    centralSystem.on('failed', (err: Error) => {
      node.problem = err.message;
      refreshUsers();
    });
    // The first central system of this Node-RED to name a port holds it; another names it when it cannot listen.
    const holder = `"${def.name || def.id}" (${def.id})`;
    const heldBy = port === undefined ? undefined : portHolders.get(port);
    if (port !== undefined && heldBy === undefined) portHolders.set(port, holder);
    centralSystem.start().catch((err: Error) => {
      node.problem =
        /already in use/.test(err.message) && heldBy
          ? `${err.message}: ${message('ampflow-central-system', 'errors.portHeldBy', { holder: heldBy })}`
          : err.message;
      node.error(node.problem);
      refreshUsers();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearTimeout(refreshTimer);
      stopWatching();
      if (port !== undefined && portHolders.get(port) === holder) portHolders.delete(port);
      Promise.resolve(upstream?.close())
        .then(() => centralSystem.stop())
        .then(done, (err: Error) => {
          node.warn(err.message);
          done();
        });
    });
  }

  RED.nodes.registerType<
    Node<CentralSystemCredentials>,
    CentralSystemNodeDef,
    unknown,
    CentralSystemCredentials
  >('ampflow-central-system', CentralSystemConfigNode, {
    credentials: {
      passwords: { type: 'password' },
      tlsPrivateKey: { type: 'password' },
      tlsPassphrase: { type: 'password' },
      upstreamPassword: { type: 'password' },
      upstreamTlsPrivateKey: { type: 'password' },
      upstreamRegistrations: { type: 'password' },
    },
  });
  registerCentralSystemRoutes(RED);
  registerChargersSidebarRoute(RED);
};
