import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';

/** A serial port the editor can offer. */
export interface SerialPortEntry {
  /** What to configure: the stable /dev/serial/by-id name when there is one. */
  path: string;
  /** The kernel device it points to (/dev/ttyUSB0), when `path` is a by-id link. */
  device?: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

interface PortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

export interface ListOptions {
  /** serialport's `SerialPort.list` (default); injectable for tests. */
  list?: () => Promise<PortInfo[]>;
  /** Where device nodes live (default /dev). */
  devDir?: string;
}

const DEVICE_NAMES = /^tty(USB|ACM|AMA|S)\d+$/;
const KIND_ORDER = ['USB', 'ACM', 'AMA', 'S'];

async function defaultList(): Promise<PortInfo[]> {
  const { SerialPort } = await import('serialport');
  return await SerialPort.list();
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/**
 * The serial ports of this machine, stable names first. serialport's list needs udev
 * (`spawn udevadm ENOENT` in containers), so the device directory is read as well: by-id links,
 * ttyUSB*, ttyACM*, ttyAMA* (Raspberry Pi), ttyS*.
 */
export async function listSerialPorts(options: ListOptions = {}): Promise<SerialPortEntry[]> {
  const devDir = options.devDir ?? '/dev';
  const found = new Map<string, SerialPortEntry>();
  try {
    for (const port of await (options.list ?? defaultList)()) {
      found.set(port.path, {
        path: port.path,
        ...(port.manufacturer ? { manufacturer: port.manufacturer } : {}),
        ...(port.serialNumber ? { serialNumber: port.serialNumber } : {}),
        ...(port.vendorId ? { vendorId: port.vendorId } : {}),
        ...(port.productId ? { productId: port.productId } : {}),
      });
    }
  } catch {
    // No udev: the directory scan below still finds the ports.
  }
  for (const name of (await entries(devDir)).filter((entry) => DEVICE_NAMES.test(entry))) {
    const path = join(devDir, name);
    if (!found.has(path)) found.set(path, { path });
  }
  const byIdDir = join(devDir, 'serial', 'by-id');
  const stable: SerialPortEntry[] = [];
  for (const name of await entries(byIdDir)) {
    const link = join(byIdDir, name);
    let device: string;
    try {
      device = await realpath(link);
    } catch {
      continue;
    }
    const known = found.get(device);
    found.delete(device);
    stable.push({ ...known, path: link, device });
  }
  const kind = (entry: SerialPortEntry) => {
    const match = /tty(USB|ACM|AMA|S)(\d+)$/.exec(entry.path);
    return match ? [KIND_ORDER.indexOf(match[1] ?? ''), Number(match[2])] : [KIND_ORDER.length, 0];
  };
  const rest = [...found.values()].sort((a, b) => {
    const [ka = 0, na = 0] = kind(a);
    const [kb = 0, nb = 0] = kind(b);
    return ka - kb || na - nb || a.path.localeCompare(b.path);
  });
  return [...stable.sort((a, b) => a.path.localeCompare(b.path)), ...rest];
}
