import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSerialPorts } from '../../../lib/modbus/serial-ports';

describe('serial port list for the editor', () => {
  let dev: string;

  beforeEach(() => {
    dev = mkdtempSync(join(tmpdir(), 'ampflow-dev-'));
    for (const name of ['ttyS1', 'ttyS0', 'ttyUSB0', 'ttyACM0', 'ttyAMA0', 'tty0', 'null'])
      writeFileSync(join(dev, name), '');
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    symlinkSync(join(dev, 'ttyUSB0'), join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A1B2C3-if00-port0'));
  });

  afterEach(() => rmSync(dev, { recursive: true, force: true }));

  it('falls back to the device directory when serialport cannot list (no udevadm in containers)', async () => {
    const ports = await listSerialPorts({
      devDir: dev,
      list: () => Promise.reject(Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' })),
    });
    assert.deepEqual(
      ports.map((p) => p.path.replace(dev, '/dev')),
      [
        '/dev/serial/by-id/usb-FTDI_FT232R_A1B2C3-if00-port0',
        '/dev/ttyACM0',
        '/dev/ttyAMA0',
        '/dev/ttyS0',
        '/dev/ttyS1',
      ],
    );
    assert.equal(ports[0]?.device, join(dev, 'ttyUSB0'));
  });

  it('keeps what serialport knows about a port under its stable name', async () => {
    const ports = await listSerialPorts({
      devDir: dev,
      list: async () => [{ path: join(dev, 'ttyUSB0'), manufacturer: 'FTDI', serialNumber: 'A1B2C3' }],
    });
    assert.deepEqual(ports[0], {
      path: join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A1B2C3-if00-port0'),
      device: join(dev, 'ttyUSB0'),
      manufacturer: 'FTDI',
      serialNumber: 'A1B2C3',
    });
  });

  it('answers on this machine whatever it has (serialport or not)', async () => {
    const ports = await listSerialPorts();
    assert.ok(Array.isArray(ports));
  });
});
