import type { NodeAPI } from 'node-red';
import { CentralSystem, parseCentralSystemSettings } from '../lib/ocpp/central-system';
import type { CentralSystemNode, CentralSystemNodeDef } from './types';

export = (RED: NodeAPI): void => {
  function CentralSystemConfigNode(this: CentralSystemNode, def: CentralSystemNodeDef): void {
    RED.nodes.createNode(this, def);
    let options: ReturnType<typeof parseCentralSystemSettings>;
    try {
      options = parseCentralSystemSettings({ host: def.host, port: def.port });
    } catch (err) {
      this.error(`${RED._('ampflow-central-system.errors.notStarted')}: ${(err as Error).message}`);
      return;
    }

    const centralSystem = new CentralSystem({
      ...options,
      log: { info: (m) => this.log(m), warn: (m) => this.warn(m), error: (m) => this.error(m) },
    });
    this.centralSystem = centralSystem;
    centralSystem.start().catch((err: Error) => this.error(err.message));

    this.on('close', (_removed: boolean, done: () => void) => {
      centralSystem.stop().then(done, (err: Error) => {
        this.warn(err.message);
        done();
      });
    });
  }

  RED.nodes.registerType('ampflow-central-system', CentralSystemConfigNode);
};
