import type { Node, NodeAPI } from 'node-red';
import type { ConnectorState } from '../lib/contracts';
import { LoadManager } from '../lib/dlm/load-manager';
import { parseDlmMessage } from '../lib/dlm/messages';
import { type SiteProblem, validateSite } from '../lib/dlm/site';
import { subscribe } from '../lib/ocpp/events';
import { dlmStatus } from './dlm-status';
import type { DlmNodeDef } from './dlm-types';
import type { CentralSystemNode } from './types';

interface Request {
  body: unknown;
}
interface Response {
  json(body: unknown): void;
}

/** OCPP actions other than those the load manager reads: messages from `ampflow-ocpp-in` it ignores quietly. */
const QUIET =
  /^[^/]+\/(BootNotification|Heartbeat|Authorize|StartTransaction|StopTransaction|DataTransfer|Connected|Disconnected|Session|\w+StatusNotification|SecurityEventNotification|SignCertificate)$/;

export = (RED: NodeAPI): void => {
  function DlmNode(this: Node, def: DlmNodeDef): void {
    RED.nodes.createNode(this, def);
    const validation = readSite(def.site);
    for (const warning of validation.warnings) this.warn(`${warning.field}: ${warning.message}`);
    if (!validation.site) {
      const problem = `${RED._('ampflow-dlm.errors.site')} ${validation.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`;
      this.error(problem);
      this.status(dlmStatus({ problem }));
      this.on('input', (_msg, _send, done) => done(new Error(problem)));
      return;
    }

    const manager = new LoadManager({
      site: validation.site,
      logger: { info: (m) => this.log(m), warn: (m) => this.warn(m), error: (m) => this.error(m) },
      // Readings and states that arrive together (one poll of the sockets) share one update.
      coalesceInputs: true,
    });
    manager.on('setPoint', (setPoint) => {
      this.send([
        {
          topic: `${setPoint.chargePointId}/SetPoint`,
          chargePointId: setPoint.chargePointId,
          connectorId: setPoint.connectorId,
          payload: setPoint,
        },
        null,
      ]);
    });
    manager.on('summary', (summary) => {
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
      manager.batch(() => {
        for (const state of cs.connectors.all()) manager.connectorState(structuredClone(state));
      });
      unsubscribe = subscribe(cs, { actions: ['ConnectorState'] }, (event) => {
        // Never throw into the central system: a state the load manager refuses is reported here.
        try {
          manager.connectorState(event.payload as ConnectorState);
        } catch (err) {
          this.error((err as Error).message);
        }
      });
    } else if (def.centralSystem) {
      this.warn(RED._('ampflow-dlm.warnings.noCentralSystem'));
    }
    manager.start();

    this.on('input', (msg, _send, done) => {
      const input = parseDlmMessage(msg.topic, msg.payload, new Date().toISOString());
      try {
        switch (input.kind) {
          case 'reading':
            manager.reading(input.reading);
            break;
          case 'connectorState':
            manager.connectorState(input.state);
            break;
          case 'command':
            this.debug(manager.command(input.command));
            break;
          case 'ignored':
            if (!QUIET.test(String(msg.topic ?? '')))
              this.warn(RED._('ampflow-dlm.warnings.ignored', { why: input.why }));
            break;
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    this.on('close', () => {
      unsubscribe?.();
      csNode?.deregister(user);
      manager.stop();
    });
  }

  RED.nodes.registerType('ampflow-dlm', DlmNode);

  // The editor checks the site as it is being edited: every problem and warning, named.
  RED.httpAdmin.post(
    '/ampflow-dlm/validate',
    RED.auth.needsPermission('ampflow-dlm.read'),
    (req: Request, res: Response) => {
      const { problems, warnings } = validateSite(req.body);
      res.json({ problems, warnings });
    },
  );
};

function readSite(text: string | undefined): {
  site?: ReturnType<typeof validateSite>['site'];
  problems: SiteProblem[];
  warnings: SiteProblem[];
} {
  let config: unknown;
  try {
    config = JSON.parse(text?.trim() ? text : '{}');
  } catch (err) {
    return {
      problems: [{ field: 'site', message: `not valid JSON: ${(err as Error).message}` }],
      warnings: [],
    };
  }
  return validateSite(config);
}
