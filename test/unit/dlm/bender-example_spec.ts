import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * Issue 37: the Bender example set `offlineA: 8` where its guide said otherwise, and neither said
 * why. A Bender under ampflow falls, when Node-RED is gone, to ampflow's offline fallback profile:
 * the lower of the charging-profile node's *Offline* and what the load manager plans (the
 * connector's minimum where the circuits have room for it then, else 0 A, never above `offlineA`).
 * So the example's `offlineA` and *Offline* are both its chargers' minimum (Minimum Current Limit 8 A):
 * every charger that fits gets a fallback its car can charge on.
 */
type FlowNode = { type: string; site?: string; offlineFallbackA?: string };

const flow = JSON.parse(
  readFileSync(join(__dirname, '../../../examples/Scenario - Bender-style installation.json'), 'utf8'),
) as FlowNode[];

describe('the Bender example: the offline fallback is the chargers’ minimum', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('plans 8 A (the minimum) for a charging car, and the charging-profile node installs no less', () => {
    const site = JSON.parse(flow.find((node) => node.type === 'ampflow-dlm')?.site ?? '{}') as SiteConfig;
    const node = flow.find((n) => n.type === 'ampflow-charging-profile');
    for (const connector of site.connectors)
      assert.equal(connector.offlineA, connector.minA, connector.chargePointId);
    assert.equal(Number(node?.offlineFallbackA), 8);

    h = harness(site);
    h.feed(() => h.meter('main-meter', [20, 20, 20]));
    const bay = '+49*839*0000000001/1';
    h.obey(bay);
    h.start();
    h.plugIn(bay);
    h.run(120_000);
    const last = h.sentTo(bay).at(-1);
    assert.ok((last?.limitA ?? 0) > 0, JSON.stringify(last));
    // The fallback the node installs: the lower of its Offline (8 A) and this plan.
    assert.equal(Math.min(Number(node?.offlineFallbackA), last?.fallbackA ?? 0), 8, JSON.stringify(last));
  });
});
