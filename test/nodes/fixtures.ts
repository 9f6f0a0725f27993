import assert from 'node:assert/strict';
import type { TestFlows, TestFlowsItem } from 'node-red-node-test-helper';
import type { CentralSystemState } from '../../lib/ocpp/central-system';
import type { CentralSystemNode, CentralSystemNodeDef } from '../../nodes/types';
import { waitFor } from '../support/events';

/** A central-system config node for node tests: loopback, unknown chargers accepted, tags accepted. */
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

/**
 * A flow on one tab (Catch and Status nodes need a tab). Flow nodes get coordinates: Node-RED
 * takes a node without x and y for a configuration node.
 */
export function onTab(...nodes: Record<string, unknown>[]): TestFlows {
  const placed = nodes.map((node) =>
    node.type === 'ampflow-central-system' ? node : { z: 'tab', x: 100, y: 100, ...node },
  );
  return [{ id: 'tab', type: 'tab', label: 'test' }, ...placed] as TestFlows;
}

/** Resolves once the config node's central system listens. */
export async function listening(node: CentralSystemNode): Promise<void> {
  const cs = node.centralSystem;
  assert.ok(cs, `central system not created: ${node.problem}`);
  if (cs.state === 'listening') return;
  await waitFor<[CentralSystemState]>(cs, 'state', (state) => state === 'listening');
}
