/**
 * Simulated chargers in a process of their own (sim/ Fleet, every connector with a car
 * charging), so that the simulator's work (schema validation of every frame, its answers) is not
 * counted in the central system's process: forked by bench/support/chargers.ts with `--import tsx`.
 *
 * IPC, parent -> child:
 *   { type: 'start', url, count, connectors, prefix, maxCurrentA }  connect, boot, plug in and start
 *                                   a transaction on every connector; answered { type: 'ready', keys }
 *   { type: 'limits' }              answered { type: 'limits', limits: { key: A } } (the newest
 *                                   SetChargingProfile limit each connector got)
 *   { type: 'watch', run }          forget what arrived so far and report run `run`; answered
 *                                   { type: 'watching', run } before any frame of the run can arrive
 *   'stop'                          close every charger and exit
 * child -> parent, once per watched run when every connector has had a SetChargingProfile:
 *   { type: 'arrived', run, atMs: { key: monotonic ms of the first }, limits: { key: A } }
 *
 * Times are monotonicMs() (bench/support/machine.ts): the same clock as the parent's.
 */
import { ManualClock } from '../../lib/clock';
import { Fleet } from '../../sim/fleet';
import { monotonicMs } from './machine';

interface StartMessage {
  type: 'start';
  url: string;
  count: number;
  connectors: number;
  prefix: string;
  maxCurrentA: number;
}

type Message = StartMessage | { type: 'limits' } | { type: 'watch'; run: number } | 'stop';

const send = (message: unknown) => process.send?.(message);

let fleet: Fleet | undefined;
let keys: string[] = [];
let limits: Record<string, number> = {};
let watched: { run: number; atMs: Record<string, number>; count: number } | undefined;

function onSetChargingProfile(key: string, request: unknown): void {
  const atMs = monotonicMs();
  const { csChargingProfiles } = request as {
    csChargingProfiles: { chargingSchedule: { chargingSchedulePeriod: { limit: number }[] } };
  };
  limits[key] = csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? Number.NaN;
  if (!watched || watched.atMs[key] !== undefined) return;
  watched.atMs[key] = atMs;
  watched.count += 1;
  if (watched.count === keys.length) {
    send({ type: 'arrived', run: watched.run, atMs: watched.atMs, limits: { ...limits } });
    watched = undefined;
  }
}

async function start(message: StartMessage): Promise<void> {
  const started = new Fleet({
    centralSystemUrl: message.url,
    count: message.count,
    identityPrefix: message.prefix,
    // A clock that never moves: no heartbeats, meter values or retries during the measurement.
    clock: new ManualClock(Date.now()),
    chargePoint: {
      connectors: message.connectors,
      configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 0 },
    },
  });
  fleet = started;
  await started.start();
  for (const cp of started.chargePoints) {
    if (!cp.isOnline) throw new Error(`${cp.identity} did not connect`);
    cp.on('received', ({ action, request }: { action: string; request: unknown }) => {
      if (action !== 'SetChargingProfile') return;
      onSetChargingProfile(`${cp.identity}/${(request as { connectorId: number }).connectorId}`, request);
    });
    for (let connectorId = 1; connectorId <= message.connectors; connectorId++) {
      cp.plugIn(connectorId, { maxCurrentA: message.maxCurrentA });
      await cp.startTransaction(connectorId, `${cp.identity}-${connectorId}`.slice(-20));
      keys.push(`${cp.identity}/${connectorId}`);
    }
  }
  await started.whenIdle();
  send({ type: 'ready', keys });
}

process.on('message', (message: Message) => {
  if (message === 'stop') {
    void (fleet?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  } else if (message.type === 'start') {
    keys = [];
    start(message).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  } else if (message.type === 'limits') {
    send({ type: 'limits', limits: { ...limits } });
  } else if (message.type === 'watch') {
    limits = {};
    watched = { run: message.run, atMs: {}, count: 0 };
    send({ type: 'watching', run: message.run });
  }
});
process.on('disconnect', () => process.exit(0));
