import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModbusBus } from '../../../lib/modbus/bus';
import { Meter } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import { freePort } from '../../support/ports';
import { type RunningProcess, run } from '../../support/process';

/**
 * ampflow's Modbus reader against a Modbus server it did not write: Debian's python3-pymodbus
 * serving an Eastron SDM630's input registers as the manual describes them (.ci/run installs it).
 * Debian's own Python runs it, whatever python3 is first on the PATH.
 */
const PYTHON = '/usr/bin/python3';

describe('a meter served by something else: python3-pymodbus as an Eastron SDM630', () => {
  let server: RunningProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGTERM');
    server = undefined;
  });

  it('reads voltages, currents, powers, frequency and energy as the manual gives them', async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing: apt-get install python3 python3-pymodbus`);
    const port = await freePort();
    server = run(PYTHON, [join(__dirname, 'pymodbus-sdm630.py'), String(port)]);
    await server.waitForLine(/^ready$/, 20_000).catch((err: Error) => {
      throw new Error(
        `pymodbus did not start (apt-get install python3-pymodbus python3-serial-asyncio): ${err.message}`,
      );
    });
    const profile = findProfile('eastron-sdm630');
    assert.ok(profile);
    const bus = new ModbusBus({ name: 'pymodbus', transport: { kind: 'tcp', host: '127.0.0.1', port } });
    bus.open();
    const meter = new Meter({ name: 'grid', bus, profile, unitId: 1, pollIntervalMs: 0 });
    meter.start();
    try {
      const { reading, errors } = await meter.readNow();
      assert.deepEqual(errors, []);
      assert.deepEqual(reading.voltageV, [230.1, 231.2, 229.8]);
      assert.deepEqual(reading.currentA, [10.5, 0, 3.2]);
      assert.deepEqual(reading.powerW, [2416.05, 0, 735.36]);
      assert.equal(reading.totalPowerW, 3151.41);
      assert.equal(reading.frequencyHz, 50);
      assert.equal(reading.importWh, 1_234_500);
      assert.equal(reading.exportWh, 0);
    } finally {
      meter.stop();
      await bus.close();
    }
  });
});
