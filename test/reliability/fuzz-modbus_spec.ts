import assert from 'node:assert/strict';
import { ModbusBus } from '../../lib/modbus/bus';
import { ModbusRequestError } from '../../lib/modbus/errors';
import { Meter, type MeterReadError } from '../../lib/modbus/meter';
import { findProfile } from '../../lib/modbus/profiles';
import type { DeviceProfile } from '../../lib/modbus/types';
import { SimulatedMeter } from '../../sim/modbus-meter';
import { ModbusSimServer } from '../../sim/modbus-server';
import {
  type Fault,
  ModbusFuzzServer,
  RTU_FAULTS,
  rightRegisters,
  TCP_FAULTS,
} from './support/modbus-fuzz-server';
import { Random, seedFor } from './support/random';

/**
 * Thousands of malformed Modbus answers (wrong length, function code, unit id, transaction id,
 * exception codes, CRC errors, truncated frames, garbage, silence) against the bus the meter
 * reader uses, over real TCP: Modbus TCP and RTU over TCP (the CRC-framed transport a serial
 * gateway passes on). From a seeded plan (AMPFLOW_MODBUS_FUZZ_SEED repeats a run). A read must
 * either bring exactly its own registers or fail with an error naming bus, unit and registers;
 * nothing may crash or hang; a meter on another bus reads on undisturbed.
 */

const SEED = seedFor('MODBUS_FUZZ', 20261122);
const TCP_READS = Number(process.env.AMPFLOW_MODBUS_FUZZ_READS ?? 1200);
const RTU_READS = Math.round((TCP_READS * 2) / 3);
const TIMEOUT_MS = 80;
/** Failures a broken answer may end in; anything else (or a wrong value) is a finding. */
const ACCEPTABLE = new Set(['timeout', 'corrupt', 'disconnected', 'exception']);
/** Faults after which the next request on the wire is still owed a strict answer. */
const CLEAN_BEFORE = new Set<Fault>(['correct', 'split', 'exception']);
const EXCEPTION_CODES = [1, 2, 3, 4, 5, 6, 8, 10, 11, 0, 12, 127, 255];

interface LaneResult {
  reads: number;
  answered: number;
  failed: Map<string, number>;
  findings: string[];
  /** Right answers lost to a stalled event loop (the timeout fired late): a few at most. */
  lateLoop: number;
}

async function fuzzLane(kind: 'tcp' | 'rtu', reads: number, random: Random): Promise<LaneResult> {
  const server = new ModbusFuzzServer(kind, random);
  await server.start();
  const name = `fuzz-${kind}`;
  const bus = new ModbusBus({
    name,
    transport: { kind: kind === 'tcp' ? 'tcp' : 'rtu-over-tcp', host: '127.0.0.1', port: server.port },
    timeoutMs: TIMEOUT_MS,
    interFrameDelayMs: 0,
    drainAfterTimeoutMs: 20,
    reconnect: { initialMs: 5, maxMs: 20, stableAfterMs: 0 },
    // Every unit answers badly now and then; backing units off would hide the answers.
    unitBackoff: { afterFailures: 1_000_000 },
  });
  const faults = kind === 'tcp' ? TCP_FAULTS : RTU_FAULTS;
  const result: LaneResult = { reads: 0, answered: 0, failed: new Map(), findings: [], lateLoop: 0 };
  let previous: Fault = 'correct';
  try {
    for (let index = 0; index < reads; index++) {
      // Each read its own address, so no answer can pass for another read's.
      const address = 1000 + index;
      const quantity = random.int(1, 125);
      const unitId = random.int(1, 247);
      const functionCode = random.pick([3, 4] as const);
      const fault: Fault = random.chance(0.3) ? 'correct' : random.pick(faults);
      server.plan.set(address, fault);
      if (fault === 'exception') server.exceptionCodes.set(address, random.pick(EXCEPTION_CODES));
      const what = `#${index} ${fault} (after ${previous}) unit ${unitId} FC${functionCode} ${address}+${quantity}`;
      const strict = CLEAN_BEFORE.has(previous);
      previous = fault;
      result.reads += 1;
      let registers: number[] | undefined;
      let error: unknown;
      const startedMs = performance.now();
      try {
        registers = await bus.read({ unitId, functionCode, address, quantity });
      } catch (err) {
        error = err;
      }
      const elapsedMs = performance.now() - startedMs;
      if (registers) {
        result.answered += 1;
        if (JSON.stringify(registers) !== JSON.stringify(rightRegisters(address, quantity)))
          result.findings.push(`${what}: taken as an answer: ${registers.slice(0, 4).join(',')}...`);
        else if (strict && fault === 'exception')
          result.findings.push(`${what}: an exception taken as an answer`);
        continue;
      }
      if (!(error instanceof ModbusRequestError)) {
        result.findings.push(`${what}: failed with ${String(error)}, not a ModbusRequestError`);
        continue;
      }
      result.failed.set(error.failure, (result.failed.get(error.failure) ?? 0) + 1);
      const range = `FC${functionCode} ${quantity > 1 ? `${address}-${address + quantity - 1}` : address}`;
      if (!error.message.startsWith(`bus "${name}" unit ${unitId}: ${range}: `))
        result.findings.push(`${what}: the error does not name bus, unit and registers: ${error.message}`);
      if (!ACCEPTABLE.has(error.failure))
        result.findings.push(`${what}: failed as ${error.failure}: ${error.message}`);
      if (strict && (fault === 'correct' || fault === 'split')) {
        // Server and reader share this process's event loop: when it stalls longer than the
        // timeout (a GC pause on a busy machine), the timer phase comes before the answer's
        // (second) write and the timeout fires late, or the answer is written after the deadline
        // (a stall between a split answer's two writes: 'no answer within 80 ms' with the second
        // half not yet written). A timeout with the whole answer written in time is the reader's fault.
        const answeredMs = server.answeredAtMs.get(address);
        const writtenLate = answeredMs === undefined || answeredMs - startedMs > TIMEOUT_MS;
        if (error.failure === 'timeout' && (elapsedMs > TIMEOUT_MS * 1.5 || writtenLate))
          result.lateLoop += 1;
        else result.findings.push(`${what}: a right answer failed: ${error.message}`);
      }
      if (strict && fault === 'exception') {
        const code = server.exceptionCodes.get(address);
        if (error.failure !== 'exception' || error.exceptionCode !== code)
          result.findings.push(`${what}: exception ${code} reported as ${error.message}`);
      }
    }
    // Afterwards the bus serves right answers again, one after the other.
    for (let index = 0; index < 30; index++) {
      const address = 50_000 + index;
      server.plan.set(address, 'correct');
      const registers = await bus
        .read({ unitId: 1, functionCode: 3, address, quantity: 10 })
        .catch((err: Error) => err);
      if (!Array.isArray(registers))
        result.findings.push(`recovery read ${index} failed: ${registers.message}`);
    }
  } finally {
    await bus.close();
    await server.stop();
  }
  return result;
}

describe('fuzzing the Modbus reader with malformed answers', function () {
  this.timeout(180_000);

  it(`reads ${TCP_READS} Modbus TCP and ${RTU_READS} RTU-over-TCP answers, broken or not (seed ${SEED}): never a wrong value, every failure named, and a meter on another bus reads on`, async () => {
    // The undisturbed meter: the simulator over its own TCP connection, on the system clock.
    const profile = findProfile('eastron-sdm630') as DeviceProfile;
    const sim = new ModbusSimServer({ kind: 'tcp' });
    await sim.start();
    sim.addUnit(1, new SimulatedMeter(profile, { values: { importWh: 1000 } }));
    const goodBus = new ModbusBus({
      name: 'good',
      transport: { kind: 'tcp', host: '127.0.0.1', port: sim.port },
    });
    const meter = new Meter({
      name: 'grid',
      bus: goodBus,
      profile,
      unitId: 1,
      pollIntervalMs: 250,
      staleAfterMs: 5000,
    });
    let readings = 0;
    const meterFailures: MeterReadError[] = [];
    let stale = 0;
    meter.on('reading', () => {
      readings += 1;
    });
    meter.on('failed', (error: MeterReadError) => meterFailures.push(error));
    meter.on('stale', () => {
      stale += 1;
    });
    meter.start();
    const startedAt = Date.now();
    let lanes: LaneResult[];
    try {
      lanes = await Promise.all([
        fuzzLane('tcp', TCP_READS, new Random(SEED)),
        fuzzLane('rtu', RTU_READS, new Random(SEED + 1)),
      ]);
    } finally {
      meter.stop();
      await goodBus.close();
      await sim.stop();
    }
    const elapsedMs = Date.now() - startedAt;
    const [tcp, rtu] = lanes as [LaneResult, LaneResult];
    if (process.env.AMPFLOW_TEST_VERBOSE || tcp.findings.length + rtu.findings.length > 0) {
      for (const [kind, lane] of [
        ['tcp', tcp],
        ['rtu-over-tcp', rtu],
      ] as const) {
        console.log(
          `    ${kind}: ${lane.reads} reads, ${lane.answered} answered, failed: ${JSON.stringify(Object.fromEntries(lane.failed))}`,
        );
      }
      console.log(`    seed ${SEED}, ${elapsedMs} ms; the good meter read ${readings} times`);
    }
    assert.deepEqual(
      tcp.findings.slice(0, 10),
      [],
      `seed ${SEED}: Modbus TCP, ${tcp.findings.length} findings`,
    );
    assert.deepEqual(
      rtu.findings.slice(0, 10),
      [],
      `seed ${SEED}: RTU over TCP, ${rtu.findings.length} findings`,
    );
    // Both kinds of answer were met: some taken, many refused.
    for (const lane of [tcp, rtu]) {
      assert.ok(lane.lateLoop <= lane.reads / 100, `${lane.lateLoop} right answers lost to late timers`);
      assert.ok(lane.answered > lane.reads / 4, `only ${lane.answered} of ${lane.reads} reads answered`);
      assert.ok(lane.reads - lane.answered > lane.reads / 3, 'the broken answers were refused');
    }
    assert.deepEqual(
      meterFailures.map((error) => error.message),
      [],
      'the meter on the other bus never failed',
    );
    assert.equal(stale, 0, 'and never went stale');
    assert.ok(
      readings >= Math.floor(elapsedMs / 250) / 2,
      `the meter read ${readings} times in ${elapsedMs} ms`,
    );
  });
});
