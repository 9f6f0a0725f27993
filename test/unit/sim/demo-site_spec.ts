import assert from 'node:assert/strict';
import { ModbusBus } from '../../../lib/modbus/bus';
import { Meter } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import { DemoSite, houseLoadA, parseDemoSiteArgs, pvPowerW } from '../../../sim/demo-site';
import { OcppHarness } from '../../support/ocpp';
import { waitUntil } from '../modbus/harness';

describe('demo site (sim/demo-site)', function () {
  this.timeout(20000);
  let harness: OcppHarness;
  let site: DemoSite | undefined;
  const buses: ModbusBus[] = [];
  const meters: Meter[] = [];
  beforeEach(() => {
    harness = new OcppHarness();
  });
  afterEach(async () => {
    for (const meter of meters.splice(0)) meter.stop();
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await site?.stop();
    site = undefined;
    await harness.close();
  });

  function reader(name: string, port: number, profileId: string): Meter {
    const profile = findProfile(profileId);
    assert.ok(profile);
    const bus = new ModbusBus({ name, transport: { kind: 'tcp', host: '127.0.0.1', port } });
    buses.push(bus);
    bus.open();
    const meter = new Meter({ name, bus, profile, unitId: 1, pollIntervalMs: 0 });
    meters.push(meter);
    return meter;
  }

  it('serves over Modbus TCP a grid meter that measures house + what the chargers draw - PV, and follows a limit the charger obeys', async () => {
    const cs = await harness.centralSystem();
    const lines: string[] = [];
    site = new DemoSite({
      centralSystemUrl: `ws://127.0.0.1:${cs.port}/`,
      gridMeterPort: 0,
      inverterPort: 0,
      dayMinutes: 10,
      startHour: 12,
      statusIntervalS: 0,
      log: (line) => lines.push(line),
    });
    await site.start();
    const running = site;
    // Without a limit a charger offers its 32 A: the first car that plugs in charges at once.
    await waitUntil(
      () => running.chargePoints.some((cp) => Math.max(...cp.connector(1).currentA) > 0),
      'a car charges',
      10000,
    );
    const charger = running.chargePoints.find((cp) => Math.max(...cp.connector(1).currentA) > 0);
    assert.ok(charger);
    assert.ok(lines.some((line) => new RegExp(`a car plugs into ${charger.identity}/1`).test(line)));

    const grid = reader('grid', running.gridMeterPort, 'eastron-sdm630');
    const inverter = reader('pv', running.inverterPort, 'sunspec-inverter');
    const consistent = async () => {
      const { reading } = await grid.readNow();
      const flows = running.flows;
      assert.ok(flows && reading.currentA);
      const pvA = flows.pvW / 3 / 230;
      for (const p of [0, 1, 2]) {
        // What the meter serves is the last tick's sum, to the meter's float resolution.
        const served = reading.currentA[p] ?? Number.NaN;
        assert.ok(
          Math.abs(served - (flows.gridA[p] ?? 0)) < 0.01,
          `L${p + 1}: ${served} vs ${flows.gridA[p]}`,
        );
        const sum = (flows.houseA[p] ?? 0) + (flows.chargersA[p] ?? 0) - pvA;
        assert.ok(Math.abs((flows.gridA[p] ?? 0) - sum) <= 0.11, `L${p + 1}: ${flows.gridA[p]} vs ${sum}`);
      }
      return flows;
    };
    const before = await consistent();
    assert.ok(before.pvW > 0, 'at noon the PV plant produces');
    const { reading: pv } = await inverter.readNow();
    assert.ok(
      Math.abs((pv.totalPowerW ?? 0) + (running.flows?.pvW ?? 0)) <= 3,
      'the inverter exports what the PV makes',
    );

    // The central system limits the charger to 6 A: once it and its car have followed, the grid
    // meter measures the lower draw.
    const drawA = Math.max(...charger.connector(1).currentA);
    assert.ok(drawA > 6);
    const transactionId = charger.connector(1).transaction?.transactionId;
    assert.ok(transactionId !== undefined);
    const answer = await cs.call(charger.identity, 'SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 1,
        stackLevel: 1,
        chargingProfilePurpose: 'TxProfile',
        transactionId,
        chargingProfileKind: 'Absolute',
        chargingSchedule: {
          chargingRateUnit: 'A',
          startSchedule: new Date(Date.now() - 60000).toISOString(),
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }],
        },
      },
    });
    assert.equal(answer.status, 'Accepted');
    await waitUntil(
      () => Math.max(...charger.connector(1).currentA) === 6,
      'the car follows the limit',
      5000,
    );
    // The grid meter follows what the chargers draw now (the limited one included).
    const drawing = () =>
      [0, 1, 2].map((p) =>
        running.chargePoints.reduce((sum, cp) => {
          let own = 0;
          for (let id = 1; id <= cp.connectorCount; id++) own += cp.connector(id).currentA[p] ?? 0;
          return sum + own;
        }, 0),
      );
    await waitUntil(
      () => drawing().every((a, p) => Math.abs(a - (running.flows?.chargersA[p] ?? Number.NaN)) < 0.11),
      'the grid meter measures what the chargers draw',
      5000,
    );
    await consistent();
    assert.ok(
      lines.some((line) =>
        new RegExp(
          `${charger.identity}: SetChargingProfile TxProfile on connector 1, 6 A: Accepted; ${charger.identity}/1 offers 6.0 A`,
        ).test(line),
      ),
    );
  });

  it('has no PV at night and a house that always draws something', () => {
    assert.equal(pvPowerW(3), 0);
    assert.equal(pvPowerW(21), 0);
    assert.ok(pvPowerW(13) > 10000);
    for (let hour = 0; hour < 24; hour += 0.25) {
      for (const a of houseLoadA(hour)) assert.ok(a > 0 && a < 25, `${hour} h: ${a} A`);
    }
  });

  it('names the option at fault', () => {
    assert.throws(
      () => parseDemoSiteArgs(['--grid-meter-port', 'x']),
      /--grid-meter-port x: expected a number/,
    );
    assert.throws(() => parseDemoSiteArgs(['--url', 'http://x']), /--url http:\/\/x/);
    assert.deepEqual(parseDemoSiteArgs(['--day-minutes', '30']), {
      centralSystemUrl: 'ws://127.0.0.1:9000/',
      host: '127.0.0.1',
      gridMeterPort: 1502,
      inverterPort: 1503,
      dayMinutes: 30,
      startHour: 7.5,
      seed: 1,
      statusIntervalS: 10,
    });
  });
});
