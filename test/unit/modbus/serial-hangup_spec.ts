import assert from 'node:assert/strict';
import { SerialPort } from 'serialport';
import { endReadsAtHangUp } from '../../../lib/modbus/serial-hangup';
import { openPtyPair, type PtyPair } from '../../support/pty';

/** Resolves with what `promise` gave, or rejects if it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

describe('a serial port that hangs up (socat pseudo-terminals)', () => {
  let pty: PtyPair | undefined;
  let port: SerialPort | undefined;

  beforeEach(async () => {
    pty = await openPtyPair();
    port = new SerialPort({ path: pty.a, baudRate: 9600, autoOpen: false });
    port.on('error', () => undefined);
    const opened = port;
    opened.once('open', () => endReadsAtHangUp(opened.port));
    await new Promise<void>((resolve, reject) => opened.open((error) => (error ? reject(error) : resolve())));
  });

  afterEach(async () => {
    if (port?.isOpen) await new Promise<void>((resolve) => port?.close(() => resolve()));
    port = undefined;
    await pty?.close();
    pty = undefined;
  });

  it('still reads what arrives', async () => {
    const b = new SerialPort({ path: pty?.b ?? '', baudRate: 9600 });
    try {
      const received = new Promise<Buffer>((resolve) => port?.once('data', resolve));
      b.write(Buffer.from([1, 2, 3]));
      assert.deepEqual([...(await within(received, 2000, 'data'))], [1, 2, 3]);
    } finally {
      await new Promise<void>((resolve) => b.close(() => resolve()));
    }
  });

  // The read is issued only after the hang-up, as when poll reports it half done or bytes had
  // just arrived: serialport's own read would read 0 bytes again and again, and never close.
  it('closes when a read reaches the port after it hung up', async () => {
    await pty?.close();
    pty = undefined;
    const closed = new Promise<Error | null>((resolve) => port?.once('close', resolve));
    port?.on('data', () => undefined);
    const error = await within(closed, 2000, 'close');
    assert.match(error?.message ?? '', /hung up/);
    assert.equal(port?.isOpen, false);
  });
});
