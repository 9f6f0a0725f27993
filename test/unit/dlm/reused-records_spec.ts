import assert from 'node:assert/strict';
import type { ConnectorState } from '../../../lib/contracts';
import type { ConnectorDemand } from '../../../lib/dlm/allocate';
import { ConnectorObserver } from '../../../lib/dlm/observer';
import { type ConnectorView, newView } from '../../../lib/dlm/parts';
import { buildProblem } from '../../../lib/dlm/problem';
import { ConnectorRuntimes } from '../../../lib/dlm/runtime';
import { SiteLimits } from '../../../lib/dlm/site-limits';
import { parseSite } from '../../../lib/dlm/site-validate';
import { silentLogger } from '../../../lib/log';

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
