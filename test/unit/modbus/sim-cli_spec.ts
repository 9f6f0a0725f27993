import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { MODBUS_SIM_HELP, parseModbusSimArgs, runModbusSim, siteValues } from '../../../sim/modbus-cli';
import { useSimHarness, waitUntil } from './harness';

describe('ampflow-modbus-sim (the simulator as a program)', () => {
  const harness = useSimHarness();

  it('parses meters and transports, and refuses unknown profiles', () => {
    assert.deepEqual(
      parseModbusSimArgs([
        '--meter',
        'eastron-sdm630@1',
        '--meter',
        'sma-sunspec-inverter@126',
        '--port',
        '1600',
      ]),
      {
        meters: [
          { profileId: 'eastron-sdm630', unitId: 1 },
          { profileId: 'sma-sunspec-inverter', unitId: 126 },
        ],
        transport: { kind: 'tcp', host: '127.0.0.1', port: 1600 },
        varying: true,
      },
    );
    assert.equal(parseModbusSimArgs(['--help']), 'help');
    assert.throws(() => parseModbusSimArgs(['--meter', 'nope@1']), /--meter nope@1/);
    assert.match(MODBUS_SIM_HELP, /eastron-sdm630/);
  });

  it('serves meters whose values can be set at run time from standard input', async () => {
    const input = new PassThrough();
    const lines: string[] = [];
    const sim = await runModbusSim(
      {
        meters: [{ profileId: 'janitza-umg604', unitId: 5 }],
        transport: { kind: 'tcp', port: 0 },
        varying: false,
      },
      { log: (line) => lines.push(line), input },
    );
    try {
      const h = harness();
      const bus = h.bus({
        name: 'sim',
        transport: { kind: 'tcp', host: '127.0.0.1', port: sim.server.port },
      });
      const meter = h.meter({
        name: 'm',
        bus,
        profile: findProfile('janitza-umg604') as DeviceProfile,
        unitId: 5,
        pollIntervalMs: 0,
      });
      input.write('5 totalPowerW=-2500 powerW=-900,-800,-800\n');
      await waitUntil(() => lines.includes('unit 5 set'), 'the line is applied');
      const { reading } = await meter.readNow();
      assert.equal(reading.totalPowerW, -2500);
      assert.deepEqual(reading.powerW, [-900, -800, -800]);
      input.write('9 totalPowerW=1\n');
      await waitUntil(() => lines.includes('no meter at unit 9'), 'a wrong unit is named');
    } finally {
      await sim.stop();
    }
  });

  it('varies a plausible site: PV makes the grid power go negative at noon', () => {
    const noon = siteValues(30 * 60000);
    assert.ok((noon.totalPowerW ?? 0) < 0);
    const night = siteValues(0);
    assert.ok((night.totalPowerW ?? 0) > 0);
  });
});
