import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import type { Reading } from '../lib/contracts';
import { Meter, type MeterReadError, type PollResult } from '../lib/modbus/meter';
import { parseMeterSettings } from '../lib/modbus/settings';
import { registerMeterRoutes } from './modbus-routes';
import { busStatus, type MeterView, meterStatus, shortFailure } from './modbus-status';
import type { MeterNodeDef, ModbusBusNode } from './modbus-types';
import { settingsInTodaysShape } from './shared/config-version';
import { useCatalog } from './shared/i18n';
import { onInput } from './shared/input';
import { meterName } from './shared/meter-names';
import { listenForMeterNotice } from './shared/meter-notices';
import { statusOf } from './shared/status-table';

export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-meter');
  function MeterNode(this: Node, def: MeterNodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-meter', def);
    if (!current) return;
    def = current;
    const busNode = RED.nodes.getNode(def.bus) as ModbusBusNode | null;
    let meter: Meter | undefined;
    let view: MeterView | undefined;
    const user = { refreshStatus: () => this.status(meterStatus(busNode, view)) };

    const bus = busNode?.bus;
    let name = def.name;
    try {
      if (!busNode || !bus) throw new Error(busNode?.problem ?? RED._('ampflow-meter.errors.noBus'));
      const settings = parseMeterSettings(def, busNode.defaultUnitId);
      name = meterName(def, busNode.defaultUnitId);
      meter = new Meter({ ...settings, name, bus });
    } catch (err) {
      // A bus with bad settings has said so itself; the meter only shows it.
      if (busNode && !bus) this.status(statusOf('ampflow-meter', 'busSettingsError'));
      else {
        this.error(`${RED._('ampflow-meter.errors.settings')}: ${(err as Error).message}`);
        this.status(busNode ? statusOf('ampflow-meter', 'settingsError') : busStatus(null));
      }
      onInput(this, () => {
        throw err;
      });
      return;
    }

    const running = meter;
    // Settings adjusted rather than refused (a poll interval raised to the device's minimum).
    for (const warning of running.warnings) this.warn(warning);
    view = { state: running.state, stale: false };
    const update = (changes: Partial<MeterView>) => {
      view = { ...(view as MeterView), state: running.state, stale: running.isStale, ...changes };
      user.refreshStatus();
    };
    // A device's trouble is logged once until it reads fully again (the status shows what goes on);
    // the bus's own trouble is the bus's status and log line.
    let warned = false;
    const warnOnce = (error: MeterReadError) => {
      if (error.busProblem || warned) return;
      warned = true;
      this.warn(error.message);
    };

    // msg.stale, and while stale msg.staleReason (and msg.staleCause, the same as data): a load
    // manager counts the meter as stale at once.
    const staleness = () =>
      running.isStale
        ? { stale: true, staleReason: running.staleReason, staleCause: running.staleCause }
        : { stale: false };
    running.on('reading', (result: PollResult) => {
      if (result.errors.length === 0) warned = false;
      for (const error of result.errors) warnOnce(error);
      const failure = shortFailure(result.errors[0]);
      update({ totalPowerW: result.reading.totalPowerW, failure });
      // Stale while some value has not been read within the stale timeout, even if others were.
      this.send({ topic: name, payload: result.reading, ...staleness() });
    });
    running.on('failed', (error: MeterReadError) => {
      warnOnce(error);
      update({ failure: shortFailure(error) });
    });
    running.on('stale', (last: Reading | undefined) => {
      update({});
      const payload: Reading = last ?? { source: name, timestamp: new Date().toISOString() };
      // msg.error as Node-RED's own nodes give it (a catch node's shape): the debug node reads its message.
      const message = running.lastError?.message;
      const error =
        message === undefined ? undefined : { message, source: { id: this.id, type: this.type, name } };
      this.send({ topic: name, payload, ...staleness(), ...(error === undefined ? {} : { error }) });
    });
    running.on('state', () => update({}));

    onInput<NodeMessageInFlow & { stale?: boolean; staleReason?: string }>(this, async (msg, send) => {
      const result = await running.readNow();
      msg.topic = name;
      msg.payload = result.reading;
      msg.stale = running.isStale;
      if (msg.stale) msg.staleReason = running.staleReason;
      else delete msg.staleReason;
      send(msg);
    });

    // A load manager that does not believe this meter's readings says why, here and in the log.
    const stopListening = listenForMeterNotice(name, (notice) => {
      update({ implausible: notice });
      if (notice) this.warn(notice);
    });
    busNode.register(user);
    running.start();
    this.on('close', (_removed: boolean, done: () => void) => {
      stopListening();
      running.stop();
      busNode.deregister(user);
      done();
    });
  }

  RED.nodes.registerType('ampflow-meter', MeterNode);
  registerMeterRoutes(RED);
};
