import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * Issue 37: the EVlink fleet example (docs/commissioning/schneider-evlink-fleet.md) makes a
 * two-socket station's own maximum (its Charging station maximum current, key maxIntensityStation)
 * a circuit of its own under the zone: the two sockets together never get more than it.
 */
function evlinkSite(): SiteConfig {
  const flow = JSON.parse(
    readFileSync(join(__dirname, '../../../examples/Scenario - Schneider EVlink fleet.json'), 'utf8'),
  ) as { type: string; site?: string }[];
  const dlm = flow.find((node) => node.type === 'ampflow-dlm');
  return JSON.parse(dlm?.site ?? '{}') as SiteConfig;
}

describe('the EVlink fleet example: a two-socket station under its own maximum', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('gives the two sockets of EVLINK-01 together no more than its 32 A, and says why', () => {
    const site = evlinkSite();
    const station = site.circuits.find((circuit) => circuit.id === 'station-01');
    assert.equal(station?.parent, 'zone');
    assert.equal(station?.limitA, 32);
    h = harness({ ...site, control: { ...site.control, rampUpAPerS: 1000, minUpdateIntervalMs: 0 } });
    // The common-area meter: 10 A of other loads per phase, read every second.
    h.feed(() => h.meter('common-areas', [10, 10, 10]));
    h.obey('EVLINK-01/1');
    h.obey('EVLINK-01/2');
    h.start();
    h.plugIn('EVLINK-01/1');
    h.plugIn('EVLINK-01/2');
    h.run(120_000);
    const right = h.limit('EVLINK-01/1') ?? 0;
    const left = h.limit('EVLINK-01/2') ?? 0;
    // The zone (63 A, 1 A headroom, 10 A others) has 52 A: without the station's circuit each got 26 A.
    assert.equal(right + left, 32, `${right} + ${left} A`);
    assert.equal(right, 16);
    assert.match(h.setPoint('EVLINK-01/1')?.reason ?? '', /EVLINK-01, two sockets/);
  });
});
