import assert from 'node:assert/strict';
import helper, { type TestFlows, type TestNodeInitializer } from 'node-red-node-test-helper';
import type { CentralSystemState } from '../../lib/ocpp/central-system';
import type { CentralSystemNode } from '../../nodes/types';
import { waitFor } from '../support/events';
import { nodeRedRuntimePath } from '../support/node-red';

/**
 * Mocha hooks of a node suite: node-red-node-test-helper on the Node-RED under test, its server
 * started before each test; the test's flow unloaded and the server stopped after it. An
 * afterEach that must run before the unload (closing chargers while their central system still
 * runs) is registered before this call, one that must run after it (stopping a Modbus server)
 * after.
 */
export function useHelperServer(): void {
  helper.init(nodeRedRuntimePath());
  beforeEach(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });
}

/** A Catch node for the tab wired to the helper node `caught`: where a test sees a node's errors. */
export const CATCH_ALL = [
  { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper' },
];

/** A Modbus TCP bus config node `bus` on loopback at `port`; `settings` override. */
export function tcpBusConfig(port: number, settings: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'bus',
    type: 'ampflow-modbus-bus',
    name: 'main',
    transport: 'tcp',
    host: '127.0.0.1',
    port: String(port),
    ...settings,
  };
}

/** The package's configuration nodes: Node-RED takes them without a tab or coordinates. */
const CONFIG_TYPES = new Set(['ampflow-central-system', 'ampflow-modbus-bus']);

/**
 * A flow on one tab (Catch and Status nodes need a tab). Flow nodes get coordinates: Node-RED
 * takes a node without x and y for a configuration node.
 */
export function onTab(...nodes: Record<string, unknown>[]): TestFlows {
  const placed = nodes.map((node) =>
    CONFIG_TYPES.has(String(node.type)) ? node : { z: 'tab', x: 100, y: 100, ...node },
  );
  return [{ id: 'tab', type: 'tab', label: 'test' }, ...placed] as TestFlows;
}

/** `node` with its output wired to a helper node `out`, and that helper: flow nodes for onTab. */
export function wiredToOut(node: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { ...node, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
}

/** Loads `flow` with the `nodes` under test; resolves once its central system `cs` listens. */
export async function loadListening(
  nodes: TestNodeInitializer,
  flow: TestFlows,
  credentials?: Record<string, Record<string, string>>,
): Promise<void> {
  await (credentials ? helper.load(nodes, flow, credentials) : helper.load(nodes, flow));
  await listening(helper.getNode('cs') as CentralSystemNode);
}

/** Resolves once the config node's central system listens. */
export async function listening(node: CentralSystemNode): Promise<void> {
  const cs = node.centralSystem;
  assert.ok(cs, `central system not created: ${node.problem}`);
  if (cs.state === 'listening') return;
  await waitFor<[CentralSystemState]>(cs, 'state', (state) => state === 'listening');
}
