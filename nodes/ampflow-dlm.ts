import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { ShapeVersionError, upgradeSite } from '../lib/config-versions';
import { LoadManager } from '../lib/dlm/load-manager';
import { type MessageFlags, parseDlmMessage } from '../lib/dlm/messages';
import { type SiteProblem, validateSite } from '../lib/dlm/site';
import { isObject } from '../lib/objects';
import { feedConnectorStates } from '../lib/ocpp/connector-feed';
import { watchPhaseRotations } from '../lib/ocpp/rotation-feed';
import { JsonFileMemory } from '../lib/store/json-memory';
import { registerDlmRoutes } from './dlm-routes';
import { dlmStatus } from './dlm-status';
import type { DlmNodeDef, LoadManagerNode } from './dlm-types';
import { settingsInTodaysShape } from './shared/config-version';
import { useCatalog } from './shared/i18n';
import { onInput } from './shared/input';
import { nodeLogger } from './shared/logger';
import { meterSourceOf, withMeterSources } from './shared/meter-names';
import { noticeMeter } from './shared/meter-notices';
import type { CentralSystemNode } from './types';

export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-dlm');
  function DlmNode(this: Node, def: DlmNodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-dlm', def);
    if (!current) return;
    def = current;
    const validation = readSite(def.site, (id) => meterSourceOf(RED, id));
    for (const change of validation.changes) this.debug(`site read in today's shape: ${change}`);
    for (const warning of validation.warnings) this.warn(`${warning.field}: ${warning.message}`);
    if (!validation.site) {
      const problem = `${RED._('ampflow-dlm.errors.site')} ${validation.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`;
      this.error(problem);
      this.status(dlmStatus({ problem }));
      onInput(this, () => {
        throw new Error(problem);
      });
      return;
    }

    const userDir = (RED.settings as { userDir?: string }).userDir;
    const memory = userDir
      ? new JsonFileMemory(join(userDir, 'ampflow', `load-manager-${def.id}.json`), nodeLogger(this))
      : undefined;
    const manager = new LoadManager({
      site: validation.site,
      logger: nodeLogger(this),
      // Readings and states that arrive together (one poll of the sockets) share one update.
      coalesceInputs: true,
      // What it learns (the other loads' peaks, the chargers' follow times) survives a restart.
      ...(memory ? { memory } : {}),
    });
    manager.on('setPoint', (setPoint, words) => {
      this.send([
        {
          topic: `${setPoint.chargePointId}/SetPoint`,
          chargePointId: setPoint.chargePointId,
          connectorId: setPoint.connectorId,
          // The reason in message keys and parameters (lib/dlm/words.ts) beside payload.reason's text.
          reasonWords: words,
          payload: setPoint,
        },
        null,
      ]);
    });
    /** The meters this node has told about (told again that all is well when it closes). */
    const noticed = new Set<string>();
    manager.on('summary', (summary) => {
      for (const circuit of summary.circuits) {
        if (!circuit.meter) continue;
        noticed.add(circuit.meter.source);
        noticeMeter(circuit.meter.source, circuit.meter.implausible);
      }
      this.status(dlmStatus({ summary }));
      this.send([null, { topic: 'summary', payload: summary }]);
    });

    // Connector states straight from a central system, including those known before this node started.
    const csNode = def.centralSystem
      ? (RED.nodes.getNode(def.centralSystem) as CentralSystemNode | null)
      : null;
    const user = { refreshStatus: () => {} };
    csNode?.register(user);
    const cs = csNode?.centralSystem;
    let unsubscribe: (() => void) | undefined;
    if (cs) {
      // Never throw into the central system: a state the load manager refuses is reported here.
      const unfeed = feedConnectorStates(cs, manager, (err) => this.error(err.message));
      // The site's rotations against what the chargers report, in this node's log.
      const unwatch = watchPhaseRotations(cs, manager.site.connectors, (message) => this.warn(message));
      unsubscribe = () => {
        unfeed();
        unwatch();
      };
    } else if (def.centralSystem) {
      this.warn(RED._('ampflow-dlm.warnings.noCentralSystem'));
    }
    manager.start();
    // The editor's Chargers sidebar shows, per connector, what this load manager decided and why.
    (this as LoadManagerNode).loadManager = manager;

    onInput(this, (msg) => {
      const input = parseDlmMessage(msg.topic, msg.payload, new Date().toISOString(), msg as MessageFlags);
      switch (input.kind) {
        case 'reading':
          manager.reading(input.reading);
          break;
        case 'meterStale':
          // A stale meter that no circuit has (a PV inverter's, say) is nothing to warn about.
          manager.meterStale(input.source, input.why, input.cause);
          break;
        case 'connectorState':
          manager.connectorState(input.state);
          break;
        case 'command':
          this.debug(manager.command(input.command));
          break;
        case 'confirmation':
          if (!manager.limitConfirmed(input.confirmation))
            this.warn(
              RED._('ampflow-dlm.warnings.ignored', {
                why: `limitConfirmed: ${input.confirmation.chargePointId}/${input.confirmation.connectorId} is not in the site`,
              }),
            );
          break;
        case 'ignored':
          if (!input.quiet) this.warn(RED._('ampflow-dlm.warnings.ignored', { why: input.why }));
          break;
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      unsubscribe?.();
      csNode?.deregister(user);
      manager.stop();
      for (const source of noticed) noticeMeter(source, undefined);
      // What it learned is written before the node is gone (a redeploy reads it back at once).
      void (memory?.flush() ?? Promise.resolve()).then(done, done);
    });
  }

  RED.nodes.registerType('ampflow-dlm', DlmNode);
  registerDlmRoutes(RED);
};

function readSite(
  text: string | undefined,
  sourceOf: (meterNodeId: string) => string | undefined,
): {
  site?: ReturnType<typeof validateSite>['site'];
  problems: SiteProblem[];
  warnings: SiteProblem[];
  /** How the site was upgraded from an older release's shape (lib/config-versions.ts). */
  changes: string[];
} {
  let config: unknown;
  try {
    config = JSON.parse(text?.trim() ? text : '{}');
  } catch (err) {
    return {
      problems: [{ field: 'site', message: `not valid JSON: ${(err as Error).message}` }],
      warnings: [],
      changes: [],
    };
  }
  // A site saved by an older release, in today's shape before anything reads its fields.
  let changes: string[] = [];
  if (isObject(config)) {
    try {
      ({ shape: config, changes } = upgradeSite(config));
    } catch (err) {
      if (!(err instanceof ShapeVersionError)) throw err;
      return { problems: [{ field: err.field, message: err.message }], warnings: [], changes };
    }
  }
  // A circuit's meter chosen in the editor is kept by node id; its readings carry the node's current name.
  const meters = withMeterSources(config, sourceOf);
  const validation = validateSite(meters.config);
  return { ...validation, warnings: [...meters.warnings, ...validation.warnings], changes };
}
