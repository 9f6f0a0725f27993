import assert from 'node:assert/strict';
import type { ConnectorState } from '../../../lib/contracts';
import type { ConnectorDemand } from '../../../lib/dlm/allocation/allocate';
import { buildProblem } from '../../../lib/dlm/allocation/from-update';
import { ConnectorObserver } from '../../../lib/dlm/evidence/observer';
import type { LoadManager } from '../../../lib/dlm/load-manager';
import { type ConnectorView, newView } from '../../../lib/dlm/parts';
import { ConnectorRuntimes, newSession } from '../../../lib/dlm/runtime';
import { SiteLimits } from '../../../lib/dlm/site/limits';
import { parseSite } from '../../../lib/dlm/site/validate';
import { silentLogger } from '../../../lib/log';
import { climkitZone, pvHome, runScenario } from '../../../sim/site-scenarios';

/**
 * The load manager keeps one view and one demand object per connector and has every update write
 * them again (no object per connector and update). That is only right while every field is
 * written: one left out would carry the last update's value into this one (a floor, a cap, a hold).
 * These tests fill each field with a marker and check that none is left.
 */
const START = Date.UTC(2026, 5, 21, 12);
const iso = (ms: number) => new Date(ms).toISOString();
const site = parseSite({
  circuits: [{ id: 'line', limitA: 63 }],
  connectors: [
    { chargePointId: 'CP-1', circuit: 'line' },
    { chargePointId: 'CP-2', circuit: 'line', phases: 1, offlineA: 10 },
    { chargePointId: 'CP-3', circuit: 'line', mode: 'pv' },
    { chargePointId: 'CP-4', circuit: 'line' },
  ],
});
const states: ConnectorState[] = [
  {
    chargePointId: 'CP-1',
    connectorId: 1,
    online: true,
    status: 'Charging',
    transaction: { transactionId: 1, idTag: 'A', startedAt: iso(START), meterStartWh: 0 },
    currentA: [12, 11, 12],
    lastSeen: iso(START),
  },
  { chargePointId: 'CP-2', connectorId: 1, online: false, status: 'Charging', lastSeen: iso(START) },
  { chargePointId: 'CP-3', connectorId: 1, online: true, status: 'SuspendedEVSE' },
  // CP-4: never reported.
];

/** An object of `template`'s keys, each holding a marker no stage writes. */
function marked<T extends object>(template: T): { value: T; marker: symbol } {
  const marker = Symbol('left from the last update');
  const value = Object.fromEntries(Object.keys(template).map((key) => [key, marker])) as T;
  return { value, marker };
}

function leftOver(value: object, marker: symbol): string[] {
  return Object.entries(value).flatMap(([key, v]) => (v === marker ? [key] : []));
}

function observed(): { runtimes: ConnectorRuntimes; observer: ConnectorObserver } {
  const runtimes = new ConnectorRuntimes();
  runtimes.adopt(site);
  const observer = new ConnectorObserver(silentLogger);
  for (const state of states) observer.accept(site, runtimes, state, START, []);
  for (const connector of site.connectors)
    observer.observe(site, connector, runtimes.of(connector), START + 1000);
  return { runtimes, observer };
}

describe('records the load manager writes again on every update', () => {
  it('a connector view: every field of the one it is given is written', () => {
    const { runtimes, observer } = observed();
    for (const connector of site.connectors) {
      const { value, marker } = marked(newView());
      const view = observer.view(site, connector, runtimes.of(connector), START + 1000, value);
      assert.equal(view, value, 'written into the view given');
      assert.deepEqual(leftOver(view, marker), [], `${connector.key}: fields not written`);
    }
  });

  it('a demand: every field of the one the last problem had is written', () => {
    const { runtimes, observer } = observed();
    const views: ConnectorView[] = site.connectors.map((connector) =>
      observer.view(site, connector, runtimes.of(connector), START + 1000),
    );
    const problemInto = (demands: ConnectorDemand[]) =>
      buildProblem(
        { site, runtimes, views, circuitViews: [], siteLimits: new SiteLimits() },
        START + 1000,
        site.connectors.map((_c, k) => k),
        undefined,
        Number.POSITIVE_INFINITY,
        demands,
      );
    const template = problemInto([]).connectors[0] as ConnectorDemand;
    const demands = site.connectors.map(() => marked(template));
    const problem = problemInto(demands.map((d) => d.value));
    site.connectors.forEach((connector, k) => {
      const demand = demands[k];
      assert.ok(demand);
      assert.equal(problem.connectors[k], demand.value, 'written into the demand given');
      assert.deepEqual(leftOver(demand.value, demand.marker), [], `${connector.key}: fields not written`);
    });
  });
});

/**
 * A connector's record and its session record are made with every field of every part (runtime.ts),
 * so that all of them have one hidden class in V8 and the stages read each field at one place: a
 * field added after the record was made, or deleted from it, would give records of different
 * histories different classes (with 1,000 connectors, 5 classes made each update about 20 %
 * slower). These run the load manager through PV, phase switching, a meter dropout, and mode and
 * priority overrides set and cleared, and check that every record still has the fields it was
 * made with, in the same order.
 */
describe('records keep the fields they were made with', () => {
  const freshRecordKeys = () => {
    const runtimes = new ConnectorRuntimes();
    return Object.keys(runtimes.of(site.connectors[0] as (typeof site.connectors)[number]));
  };
  const sessionKeys = Object.keys(newSession('none'));

  for (const [name, scenario] of [
    ['PV home (switching, dips, battery)', pvHome()],
    [
      'Climkit zone (meter dropout, 10 chargers)',
      climkitZone({ fallback: { otherLoadA: 25, connectorLimitA: 6 } }),
    ],
  ] as const) {
    it(name, () => {
      let manager: LoadManager | undefined;
      let commands = 0;
      runScenario(scenario, {
        durationMs: 2 * 60 * 60 * 1000,
        onStep: (sim, running) => {
          manager = running;
          const first = running.site.connectors[0];
          if (first && sim.elapsedMs % (20 * 60 * 1000) === 0) {
            const clear = commands % 2 === 1;
            running.command({
              type: 'mode',
              chargePointId: first.chargePointId,
              mode: clear ? null : 'minpv',
            });
            running.command({
              type: 'priority',
              chargePointId: first.chargePointId,
              priority: clear ? null : 3,
            });
            commands++;
          }
        },
      });
      assert.ok(manager);
      const runtimes = (manager as unknown as { runtimes: ConnectorRuntimes }).runtimes;
      const records = manager.site.connectors.map((connector) => {
        const runtime = runtimes.of(connector);
        return { key: connector.key, runtime, session: runtime.session };
      });
      assert.ok(commands >= 4, 'overrides were set and cleared');
      assert.ok(records.length > 0);
      const made = freshRecordKeys();
      for (const record of records) {
        assert.deepEqual(Object.keys(record.runtime), made, `${record.key}: its record's fields`);
        assert.deepEqual(Object.keys(record.session), sessionKeys, `${record.key}: its session's fields`);
      }
    });
  }
});
