/** Where a Modbus bus is: the transport settings every layer of lib/modbus names. */

/** How a bus reaches its devices. */
export type BusTransport =
  | { kind: 'tcp'; host: string; port: number }
  /** Raw RTU frames (with CRC) over a TCP socket: serial gateways in transparent mode. */
  | { kind: 'rtu-over-tcp'; host: string; port: number }
  | {
      kind: 'rtu';
      path: string;
      baudRate: number;
      dataBits: 7 | 8;
      parity: 'none' | 'even' | 'odd';
      stopBits: 1 | 2;
    };

export function describeTransport(transport: BusTransport): string {
  switch (transport.kind) {
    case 'tcp':
      return `tcp://${transport.host}:${transport.port}`;
    case 'rtu-over-tcp':
      return `rtu-over-tcp://${transport.host}:${transport.port}`;
    case 'rtu': {
      const parity = transport.parity === 'none' ? 'N' : transport.parity === 'even' ? 'E' : 'O';
      return `${transport.path} ${transport.baudRate} ${transport.dataBits}${parity}${transport.stopBits}`;
    }
  }
}
