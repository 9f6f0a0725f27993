import { read } from 'node:fs';
import { withFault } from './errors';

/**
 * A serial port that hangs up (USB adapter unplugged, the other side of a pseudo-terminal gone)
 * must close, so that the bus notices and reopens it. serialport's read on Linux and macOS
 * (@serialport/bindings-cpp's unixRead, 13.0.0) does not always let it: it takes a read of 0
 * bytes for "nothing yet" and reads again at once, forever. With the port's VMIN=1, nothing yet
 * is EAGAIN; 0 bytes is the end of file a terminal gives once it is hung up. A read that waits
 * in poll when the hang-up comes fails, and the port closes; one that reaches the port after it
 * (poll saw the hang-up half done and said "readable", or bytes had just arrived) spins through
 * the thread pool, a new promise each turn, and the port stays open on a dead line until the
 * next write fails (bindings-cpp issue #162, still open).
 *
 * So the port's read is replaced by the same read that ends at 0 bytes with an error: the stream
 * takes any read error for a disconnect, closes the port and emits 'close'. It uses the binding's
 * file descriptor and poller (declared on LinuxPortBinding and DarwinPortBinding); a binding
 * without them (Windows) keeps its own read.
 */
export function endReadsAtHangUp(binding: unknown): void {
  if (!isUnixPort(binding)) return;
  binding.read = (buffer, offset, length) => readUntilHangUp(binding, buffer, offset, length);
}

interface UnixPort {
  fd: number | null;
  poller: { once(event: 'readable', callback: (error?: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function isUnixPort(binding: unknown): binding is UnixPort {
  if (typeof binding !== 'object' || binding === null) return false;
  const { fd, poller } = binding as Partial<UnixPort>;
  return typeof fd === 'number' && typeof poller?.once === 'function';
}

async function readUntilHangUp(
  port: UnixPort,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    const fd = openFd(port);
    let bytesRead: number;
    try {
      bytesRead = await new Promise<number>((resolve, reject) =>
        read(fd, buffer, offset, length, null, (error, n) => (error ? reject(error) : resolve(n))),
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw error;
      // Closed while the read was in the thread pool: its poller is destroyed, and polling a
      // destroyed poller crashes the process (a segmentation fault).
      openFd(port);
      await new Promise<void>((resolve, reject) =>
        port.poller.once('readable', (pollError) => (pollError ? reject(pollError) : resolve())),
      );
      continue;
    }
    if (bytesRead > 0) return { buffer, bytesRead };
    throw withFault(new Error('serial port hung up (end of file: adapter unplugged?)'), { kind: 'hungUp' });
  }
}

/** The port's file descriptor; a read of a port closed on our side is canceled (the stream ignores it). */
function openFd(port: UnixPort): number {
  if (port.fd === null) throw Object.assign(new Error('Port is not open'), { canceled: true });
  return port.fd;
}
