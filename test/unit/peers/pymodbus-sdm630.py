#!/usr/bin/python3
"""An Eastron SDM630 on Modbus TCP, served by Debian's python3-pymodbus (3.0), for the peer tests.

Usage: /usr/bin/python3 pymodbus-sdm630.py <port>   (listens on 127.0.0.1 only; prints "ready")

The register map is written here from the Eastron SDM630 Modbus protocol document (input
registers, function code 4, IEEE 754 float32, high word first), independently of ampflow's
profile file, so the test compares two readings of the manual. Values:
  30001/3/5 voltage L1-L3 230.1 / 231.2 / 229.8 V; 30007/9/11 current 10.5 / 0 / 3.2 A;
  30013/15/17 power L1-L3 (V x A); 30053 total power; 30071 frequency 50 Hz;
  30073 import energy 1234.5 kWh; 30075 export 0 kWh. Every other register of 30001-30080 is 0.
pymodbus 3.0: zero_mode=True (address = block index), Endian.Big given explicitly (the builder
defaults to little endian), defer_start=True to learn when the server listens.
"""
import asyncio
import sys

from pymodbus.constants import Endian
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.server import StartAsyncTcpServer

VOLTS = (230.1, 231.2, 229.8)
AMPS = (10.5, 0.0, 3.2)
WATTS = tuple(round(v * a, 2) for v, a in zip(VOLTS, AMPS))
FLOATS = {
    0: VOLTS[0], 2: VOLTS[1], 4: VOLTS[2],
    6: AMPS[0], 8: AMPS[1], 10: AMPS[2],
    12: WATTS[0], 14: WATTS[1], 16: WATTS[2],
    52: round(sum(WATTS), 2),
    70: 50.0,
    72: 1234.5,
    74: 0.0,
}


def input_registers():
    registers = [0] * 80
    for address, value in FLOATS.items():
        builder = BinaryPayloadBuilder(byteorder=Endian.Big, wordorder=Endian.Big)
        builder.add_32bit_float(value)
        registers[address:address + 2] = builder.to_registers()
    return registers


async def main(port):
    device = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, input_registers()), zero_mode=True)
    context = ModbusServerContext(slaves=device, single=True)
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", port), defer_start=True)
    serving = asyncio.create_task(server.serve_forever())
    await server.serving
    print("ready", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
