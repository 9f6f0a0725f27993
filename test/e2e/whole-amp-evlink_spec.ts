import assert from 'node:assert/strict';
import { SimulatedChargePoint, type SimulatedChargePointOptions } from '../../sim/charge-point';
import { eventually } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion, useNodeRed } from '../support/node-red';
import { freePort } from '../support/ports';

interface Decision {
  connectorId: number;
  limitA: number;
  reason: string;
}
/** The Chargers sidebar's listing: one entry per central system. */
type Listing = { state?: string; chargePoints: { chargePointId: string; decisions?: Decision[] }[] }[];

/**
 * Issue 39 in a Node-RED process (the package as built, dist/), as an integrator deploys it: a
 * central system, a load manager and a charging-profile node (`auto`), a simulated Schneider
 * EVlink (R4/R5 firmware: its limit is the key maxIntensitySocket, whole amperes) and another
 * charger sharing 25 A of a line, and no step anywhere in the site. The Chargers sidebar's listing shows
 * what the load manager decided: the EVlink 12 A, which it offers, with a reason it has reached;
 * the other charger the 13 A left. Before, the EVlink was told 12.5 A and offered 12 A: 0.5 A went
 * to nobody.
 */
describe(`whole-amp EVlink in Node-RED ${nodeRedVersion()} (issue 39)`, function () {
  this.timeout(90_000);
  let port = 0;
  const chargers: SimulatedChargePoint[] = [];
  const site = {
    // 25 A for the cars: what else the line feeds estimated at 1 A (no meter: Check the site asks for it).
    circuits: [{ id: 'line', limitA: 26, fallback: { otherLoadA: 1 } }],
    connectors: [
      { chargePointId: 'EVLINK', circuit: 'line', offlineA: 6 },
      { chargePointId: 'OTHER', circuit: 'line', offlineA: 6 },
    ],
    unbalanceLimitA: null,
    // Its key is all it keeps once ampflow is gone: not held for that here (offline-fit's own tests).
    control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0, holdKeptLimits: false },
  };
  const red = useNodeRed(async () => {
    port = await freePort();
    return {
      flow: [
        { id: 'tab', type: 'tab', label: 'whole amperes' },
        centralSystemConfig(port, { listen: 'port', path: '', securityProfile: '0' }),
        {
          id: 'dlm',
          type: 'ampflow-dlm',
          z: 'tab',
          x: 100,
          y: 100,
          centralSystem: 'cs',
          site: JSON.stringify(site),
          wires: [['profile'], []],
        },
        {
          id: 'profile',
          type: 'ampflow-charging-profile',
          z: 'tab',
          x: 300,
          y: 100,
          centralSystem: 'cs',
          strategy: 'auto',
          chargers: '',
          voltageV: '230',
          increaseIntervalS: '0',
          verifySchedule: false,
          followDelayS: '0',
          toleranceA: '1',
          wires: [[]],
        },
      ],
    };
  });
  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
  });

  async function charger(identity: string, options: Partial<SimulatedChargePointOptions>) {
    const cp = new SimulatedChargePoint({
      centralSystemUrl: `ws://127.0.0.1:${port}/`,
      identity,
      ...options,
      configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 1 },
    });
    chargers.push(cp);
    // The central system listens once its flow has started (Node-RED says "Started flows" before).
    const listening = await eventually(
      async () => {
        const res = await red().request('/ampflow-central-system/chargers');
        return ((await res.json()) as Listing).some((cs) => cs.state === 'listening');
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    assert.ok(listening, 'the central system does not listen');
    await cp.connect();
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG');
    return cp;
  }

  const decisions = async (): Promise<Record<string, Decision | undefined>> => {
    const res = await red().request('/ampflow-central-system/chargers');
    const listing = (await res.json()) as Listing;
    const all = listing.flatMap((cs) => cs.chargePoints);
    return Object.fromEntries(all.map((cp) => [cp.chargePointId, cp.decisions?.[0]]));
  };

  it('an EVlink preset charger is given whole amperes it reaches, and the rest goes to the other charger', async () => {
    const evlink = await charger('EVLINK', {
      vendorBehaviour: 'schneider-evlink-r4-r5',
      chargePointVendor: 'Schneider Electric',
      chargePointModel: 'EVlink Smart Wallbox',
      firmwareVersion: '2.7.4.18',
    });
    const other = await charger('OTHER', {});
    let seen: Record<string, Decision | undefined> = {};
    const steady = await eventually(
      async () => {
        seen = await decisions();
        return (
          seen.EVLINK?.limitA === 12 &&
          evlink.connector(1).offeredA === 12 &&
          seen.OTHER?.limitA === 13 &&
          other.connector(1).offeredA === 13
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.ok(
      steady,
      `${JSON.stringify(seen)}; offered ${evlink.connector(1).offeredA} A and ${other.connector(1).offeredA} A`,
    );
    // A reason it has reached: the line is full, not "ramping up to 12.5 A".
    assert.match(seen.EVLINK?.reason ?? '', /^limited: line L\d is full$/);
    assert.deepEqual(red().problems(), []);
  });
});
