import type { TestFlowsItem } from 'node-red-node-test-helper';
import type { CentralSystemNodeDef } from '../../nodes/types';

/**
 * A central-system config node for a test flow (node tests and the e2e flows): loopback, unknown
 * chargers accepted, tags accepted, no configuration read at boot; `settings` override.
 */
export function centralSystemConfig(
  port: number,
  settings: Partial<TestFlowsItem<CentralSystemNodeDef>> = {},
): TestFlowsItem<CentralSystemNodeDef> {
  return {
    id: 'cs',
    type: 'ampflow-central-system',
    name: 'test central system',
    host: '127.0.0.1',
    port: String(port),
    unknownChargePoints: 'accept',
    authorizationPolicy: 'acceptAll',
    readConfigurationOnBoot: false,
    ...settings,
  };
}

/** A load manager's `site` setting: one circuit `id` of `limitA`, one connector per charger on it. */
export function oneCircuitSite(id: string, limitA: number, chargePointIds: string[]): string {
  return JSON.stringify({
    circuits: [{ id, limitA }],
    connectors: chargePointIds.map((chargePointId) => ({ chargePointId, circuit: id })),
  });
}
