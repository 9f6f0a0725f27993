import assert from 'node:assert/strict';
import { type CircuitSummary, type ConnectorSummary, siteLoad } from '../../../lib/dlm/report/summary';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/** A circuit of a summary: only what siteLoad reads matters here. */
function circuit(id: string, patch: Partial<CircuitSummary> = {}): CircuitSummary {
  return {
    id,
    name: id,
    limitA: [63, 63, 63],
    configuredLimitA: [63, 63, 63],
    headroomA: [0, 0, 0],
    otherA: [0, 0, 0],
    chargersA: [0, 0, 0],
    loadA: [0, 0, 0],
    availableA: [63, 63, 63],
    unbalanceA: 0,
    overloaded: false,
    ...patch,
  };
}

function connector(key: string, circuitId: string, patch: Partial<ConnectorSummary> = {}): ConnectorSummary {
  const [chargePointId = '', connectorId = '1'] = key.split('/');
  return {
    chargePointId,
    connectorId: Number(connectorId),
    name: key,
    circuit: circuitId,
    online: true,
    mode: 'fast',
    priority: 0,
    limitA: 0,
    phases: 3,
    reason: '',
    gridPhases: [1, 2, 3],
    countedA: [0, 0, 0],
    ...patch,
  };
}

const meter = (location: 'includesChargers' | 'otherLoadsOnly', measuredA: [number, number, number]) => ({
  source: 'grid-meter',
  location,
  stale: false,
  measuredA,
  measuredW: Math.round((measuredA[0] + measuredA[1] + measuredA[2]) * 230),
});

describe('what the site draws from the grid (report/summary.ts siteLoad)', () => {
  it('takes a grid meter that includes the chargers as it reads, never with the chargers added on top', () => {
    // Issue #38: the dashboard showed ~76 kW on a 63 A zone (43.5 kW) by adding the chargers again.
    const load = siteLoad(
      [
        circuit('zone', { meter: meter('includesChargers', [60, 58, 61]) }),
        circuit('line', { parent: 'zone', configuredLimitA: [32, 32, 32] }),
      ],
      [
        connector('CP-1/1', 'zone', { drawA: [30, 30, 30] }),
        connector('CP-5/1', 'line', { drawA: [25, 25, 25] }),
      ],
      230,
    );
    assert.equal(load.gridW, (60 + 58 + 61) * 230);
    assert.deepEqual(load.gridA, [60, 58, 61]);
    assert.equal(load.basis, 'measured');
    assert.equal(load.chargersW, 55 * 3 * 230);
    assert.equal(load.maxW, 63 * 3 * 230);
    assert.ok(load.gridW <= load.maxW);
  });

  it('adds the chargers below to a meter of the other loads only', () => {
    const load = siteLoad(
      [
        circuit('main', { meter: meter('otherLoadsOnly', [10, 8, 12]) }),
        circuit('carpark', { parent: 'main', configuredLimitA: [40, 40, 40] }),
      ],
      [connector('CP-1/1', 'carpark', { drawA: [16, 16, 0] })],
      230,
    );
    assert.deepEqual(load.gridA, [26, 24, 12]);
    assert.equal(load.gridW, (30 + 32) * 230);
  });

  it('counts the other loads and the chargers where the meter is stale, and names the figure counted', () => {
    const load = siteLoad(
      [
        circuit('zone', {
          meter: { ...meter('includesChargers', [60, 60, 60]), stale: true },
          otherA: [20, 20, 20],
        }),
      ],
      [connector('CP-1/1', 'zone', { drawA: [10, 10, 10] })],
      230,
    );
    assert.equal(load.basis, 'counted');
    assert.deepEqual(load.gridA, [30, 30, 30]);
  });

  it("holds no offline charger's reservation for load, and takes a charger that has not reported at its set-point", () => {
    const load = siteLoad(
      [circuit('main', { meter: meter('otherLoadsOnly', [5, 5, 5]) })],
      [
        connector('CP-1/1', 'main', { online: false, reservedA: [6, 6, 6], countedA: [6, 6, 6] }),
        connector('CP-2/1', 'main', { countedA: [8, 8, 8] }),
      ],
      230,
    );
    assert.deepEqual(load.gridA, [13, 13, 13]);
    assert.deepEqual(load.chargersA, [8, 8, 8]);
  });

  it("is in the load manager's summary: the grid meter's reading, the PV inverter's generation", () => {
    const site: SiteConfig = {
      circuits: [
        {
          id: 'zone',
          name: 'zone',
          limitA: 63,
          meter: { source: 'grid-meter', location: 'includesChargers' },
        },
      ],
      connectors: [{ chargePointId: 'CP-1', circuit: 'zone', maxA: 32 }],
      pv: { inverterSource: 'pv' },
    };
    const h = harness(site).start();
    try {
      h.plugIn('CP-1/1');
      h.obey('CP-1/1');
      h.feed(() => {
        const car = h.limit('CP-1/1') ?? 0;
        h.meter('pv', [-8, -8, -8], { totalPowerW: -5520 });
        h.meter('grid-meter', [10 + car - 8, 9 + car - 8, 11 + car - 8], {
          totalPowerW: Math.round((30 + 3 * car - 24) * 230),
        });
      });
      h.run(120_000);
      const car = h.limit('CP-1/1') ?? 0;
      assert.ok(car >= 6, `the car gets ${car} A`);
      const { site: load } = h.manager.summary();
      assert.equal(load.gridW, Math.round((30 + 3 * car - 24) * 230));
      assert.deepEqual(load.chargersA, [car, car, car]);
      assert.equal(load.pvW, 24 * 230);
      assert.equal(load.maxW, 63 * 3 * 230);
    } finally {
      h.stop();
    }
  });
});
