import type { Node, NodeAPI } from 'node-red';
import { upgradeNodeSettings } from '../lib/config-versions';
import { ModbusBus } from '../lib/modbus/bus';
import { type BusSettings, parseBusSettings } from '../lib/modbus/settings';
import { registerModbusBusRoutes } from './modbus-routes';
import type { ModbusBusNode, ModbusBusNodeDef, ModbusBusUser } from './modbus-types';
import { useCatalog } from './shared/i18n';
import { nodeLogger } from './shared/logger';

export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-modbus-bus');
  function ModbusBusConfigNode(this: Node, def: ModbusBusNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as ModbusBusNode;
    const users = new Set<ModbusBusUser>();
    const log = nodeLogger(node);
    const refreshUsers = () => {
      for (const user of users) user.refreshStatus();
    };
    node.defaultUnitId = 1;

    let settings: BusSettings | undefined;
    try {
      // Saved by an older release: read in today's shape; by a newer one: a settings problem.
      settings = parseBusSettings(def.name || def.id, upgradeNodeSettings('ampflow-modbus-bus', def));
      node.defaultUnitId = settings.defaultUnitId;
    } catch (err) {
      node.problem = (err as Error).message;
      node.error(`${RED._('ampflow-modbus-bus.errors.settings')}: ${node.problem}`);
    }

    // One bus object per period of use: closed when the last user goes, a fresh one for the next.
    const makeBus = (busSettings: BusSettings) => {
      const { defaultUnitId: _unit, ...options } = busSettings;
      const bus = new ModbusBus({ ...options, log });
      bus.on('state', refreshUsers);
      return bus;
    };
    if (settings) node.bus = makeBus(settings);
    let closing: Promise<void> = Promise.resolve();

    node.register = (user) => {
      users.add(user);
      node.bus?.open();
      user.refreshStatus();
    };
    node.deregister = (user) => {
      users.delete(user);
      const bus = node.bus;
      if (users.size > 0 || !bus || !settings || bus.state === 'idle') return;
      node.bus = makeBus(settings);
      closing = closing.then(() => bus.close());
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const bus = node.bus;
      closing
        .then(() => bus?.close())
        .then(done, (err: Error) => {
          node.warn(err.message);
          done();
        });
    });
  }

  RED.nodes.registerType('ampflow-modbus-bus', ModbusBusConfigNode);
  registerModbusBusRoutes(RED);
};
