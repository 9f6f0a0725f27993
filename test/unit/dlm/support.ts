import { ManualClock } from '../../../lib/clock';
import type { ConnectorState, ConnectorTransaction, PerPhase, SetPoint } from '../../../lib/contracts';
import { LoadManager, type LoadManagerOptions } from '../../../lib/dlm/load-manager';
import type { SiteSummary } from '../../../lib/dlm/report/summary';
import type { SiteConfig } from '../../../lib/dlm/site';
import type { Logger } from '../../../lib/log';

/** A load manager on a ManualClock with helpers to feed it and read what it decided. */
export function harness(
  site: SiteConfig,
  options: Pick<LoadManagerOptions, 'coalesceInputs' | 'memory'> & { startMs?: number } = {},
) {
  const { startMs, ...managerOptions } = options;
  const clock = new ManualClock(startMs ?? Date.UTC(2026, 5, 1, 8));
  const logged: string[] = [];
  const logger: Logger = {
    info: (m) => logged.push(`info: ${m}`),
    warn: (m) => logged.push(`warn: ${m}`),
    error: (m) => logged.push(`error: ${m}`),
  };
  const manager = new LoadManager({ site, clock, logger, ...managerOptions });
  const sent: (SetPoint & { atMs: number })[] = [];
  const summaries: SiteSummary[] = [];
  manager.on('setPoint', (setPoint) => sent.push({ ...setPoint, atMs: clock.now() }));
  manager.on('summary', (summary) => summaries.push(summary));
  const iso = () => new Date(clock.now()).toISOString();
  const states = new Map<string, ConnectorState>();
  let nextTransactionId = 1;
  /** Per-step feeders (fresh meters, charger meter values) run by `run`. */
  const feeders: (() => void)[] = [];

  const h = {
    clock,
    manager,
    sent,
    summaries,
    logged,
    iso,
    /** Merges `patch` into the connector's state and sends it. */
    state(key: string, patch: Partial<ConnectorState>): ConnectorState {
      const [chargePointId = '', connectorId = '1'] = key.split('/');
      const state: ConnectorState = {
        ...(states.get(key) ?? { chargePointId, connectorId: Number(connectorId), online: true }),
        ...patch,
      };
      for (const field of Object.keys(patch) as (keyof ConnectorState)[]) {
        if (patch[field] === undefined) delete state[field];
      }
      states.set(key, state);
      manager.connectorState(structuredClone(state));
      return state;
    },
    /** A car plugged in and authorized (a new transaction), charging or waiting for current. */
    plugIn(
      key: string,
      extra: Partial<ConnectorTransaction> = {},
      status: ConnectorState['status'] = 'SuspendedEVSE',
    ) {
      return h.state(key, {
        status,
        transaction: {
          transactionId: nextTransactionId++,
          idTag: `TAG-${nextTransactionId}`,
          startedAt: iso(),
          meterStartWh: 0,
          ...extra,
        },
        energyWh: 0,
      });
    },
    unplug(key: string) {
      return h.state(key, { status: 'Available', transaction: undefined, currentA: undefined });
    },
    /** The charger reports what the car draws (charger phases L1..L3). */
    draw(key: string, currentA: PerPhase, status: ConnectorState['status'] = 'Charging') {
      return h.state(key, { status, currentA });
    },
    meter(source: string, currentA: PerPhase, extra: { totalPowerW?: number; socPercent?: number } = {}) {
      manager.reading({ source, timestamp: iso(), currentA, ...extra });
    },
    limit(key: string): number | undefined {
      return manager.setPoints().find((s) => `${s.chargePointId}/${s.connectorId}` === key)?.limitA;
    },
    setPoint(key: string): SetPoint | undefined {
      return manager.setPoints().find((s) => `${s.chargePointId}/${s.connectorId}` === key);
    },
    /** Set-points sent to one connector, oldest first. */
    sentTo(key: string) {
      return sent.filter((s) => `${s.chargePointId}/${s.connectorId}` === key);
    },
    feed(feeder: () => void) {
      feeders.push(feeder);
    },
    /** Moves the clock `ms` forward in 1 s steps, running the feeders each step. */
    run(ms: number) {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(Math.min(1000, ms - t));
        for (const feeder of feeders) feeder();
      }
    },
    /** Every car draws what it is offered (up to `maxA`) on its phases: a charger that obeys. */
    obey(key: string, phases: number[] = [1, 2, 3], maxA = 32) {
      feeders.push(() => {
        const limit = h.limit(key) ?? 0;
        const drawn = Math.min(limit, maxA);
        const currentA = [1, 2, 3].map((p) => (phases.includes(p) ? drawn : 0)) as PerPhase;
        const state = states.get(key);
        if (!state?.transaction) return;
        h.state(key, { status: drawn > 0 ? 'Charging' : 'SuspendedEVSE', currentA });
      });
    },
    /** Starts; every connector not reported yet is reported Available (online, no car). */
    start() {
      for (const connector of manager.site.connectors) {
        if (!states.has(connector.key)) h.state(connector.key, { status: 'Available' });
      }
      manager.start();
      return h;
    },
    stop() {
      manager.stop();
    },
  };
  return h;
}
