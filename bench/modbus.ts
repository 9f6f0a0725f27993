/**
 * Modbus benchmark: how many polls per second one bus carries, and how many requests each shipped
 * profile needs per poll (fewer is better: on RS485 every request costs a round trip).
 *
 *   node_modules/.bin/tsx bench/modbus.ts [--runs 5] [--seconds 0.5] [--meters 8]
 *
 * Runs against the Modbus simulator over loopback TCP, so the figures measure ampflow's own cost
 * (queue, framing, decoding) and not a device. The RS485 column estimates the time one poll takes
 * on a 19200 baud 8E1 line from the bytes on the wire, the 3.5-character gaps and the bus's
 * default 10 ms pause between requests.
 */
import { cpus, platform, release } from 'node:os';
import { ModbusBus } from '../lib/modbus/bus';
import { Meter } from '../lib/modbus/meter';
import { SHIPPED_PROFILES } from '../lib/modbus/profiles';
import type { DeviceProfile } from '../lib/modbus/types';
import { SimulatedMeter } from '../sim/modbus-meter';
import { ModbusSimServer } from '../sim/modbus-server';
import { benchOptions } from './support/options';

const {
  runs,
  seconds,
  meters: meterCount,
} = benchOptions({ runs: 5, seconds: 0.5, meters: 8 }, { runs: 1, seconds: 0.1, meters: 2 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Milliseconds one poll takes on RS485 at 19200 baud 8E1 (11 bits a character). */
function rs485PollMs(blocks: readonly { quantity: number }[]): number {
  const characterMs = (11 / 19200) * 1000;
  const gapMs = Math.max(1.75, 3.5 * characterMs);
  const interFrameDelayMs = 10;
  return blocks.reduce((sum, block) => {
    const requestBytes = 8;
    const answerBytes = 5 + 2 * block.quantity;
    return sum + (requestBytes + answerBytes) * characterMs + 2 * gapMs + interFrameDelayMs;
  }, 0);
}

/** Polls `meters` back to back (each as fast as it can) for `seconds`; returns polls per second. */
async function pollFlat(meters: Meter[], durationS: number): Promise<number> {
  let polls = 0;
  const until = performance.now() + durationS * 1000;
  await Promise.all(
    meters.map(async (meter) => {
      while (performance.now() < until) {
        await meter.readNow();
        polls += 1;
      }
    }),
  );
  return polls / durationS;
}

async function profileFigures(profile: DeviceProfile) {
  const server = new ModbusSimServer({ kind: 'tcp' });
  await server.start();
  server.addUnit(1, new SimulatedMeter(profile));
  const bus = new ModbusBus({
    name: 'bench',
    transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
  });
  const meter = new Meter({
    name: profile.id,
    bus,
    profile,
    unitId: 1,
    pollIntervalMs: 0,
    pauseAfterConnectMs: 0,
  });
  const before = bus.stats.sent;
  await meter.readNow();
  const firstPollRequests = bus.stats.sent - before;
  const blocks = meter.plan ?? [];
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) rates.push(await pollFlat([meter], seconds));
  const sent = bus.stats.sent;
  const answered = bus.stats.answered;
  await bus.close();
  await server.stop();
  return {
    profile: profile.id,
    requestsPerPoll: blocks.length,
    discoveryRequests: firstPollRequests - blocks.length,
    registersPerPoll: blocks.reduce((sum, block) => sum + block.quantity, 0),
    pollsPerSecond: median(rates),
    rs485PollMs: rs485PollMs(blocks),
    failed: sent - answered,
  };
}

async function busFigures() {
  // A mixed bus: the first `meterCount` non-SunSpec profiles, one unit each, all polled at once.
  const profiles = SHIPPED_PROFILES.filter((p) => !p.sunspec).slice(0, meterCount);
  const server = new ModbusSimServer({ kind: 'tcp' });
  await server.start();
  const bus = new ModbusBus({
    name: 'bench',
    transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
  });
  const meters = profiles.map((profile, index) => {
    server.addUnit(index + 1, new SimulatedMeter(profile));
    return new Meter({
      name: profile.id,
      bus,
      profile,
      unitId: index + 1,
      pollIntervalMs: 0,
      pauseAfterConnectMs: 0,
    });
  });
  await Promise.all(meters.map((meter) => meter.readNow()));
  const pollRates: number[] = [];
  const requestRates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const sentBefore = bus.stats.sent;
    pollRates.push(await pollFlat(meters, seconds));
    requestRates.push((bus.stats.sent - sentBefore) / seconds);
  }
  const requestsPerRound = meters.reduce((sum, meter) => sum + (meter.plan?.length ?? 0), 0);
  await bus.close();
  await server.stop();
  return {
    meters: meters.length,
    pollsPerSecond: median(pollRates),
    requestsPerSecond: median(requestRates),
    requestsPerRound,
    rs485RoundMs: meters.reduce((sum, meter) => sum + rs485PollMs(meter.plan ?? []), 0),
  };
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log('ampflow Modbus benchmark');
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node.js ${process.version}`,
  );
  console.log(
    `command: node_modules/.bin/tsx bench/modbus.ts --runs ${runs} --seconds ${seconds} --meters ${meterCount}`,
  );
  console.log(`medians of ${runs} runs of ${seconds} s; simulator over loopback TCP\n`);

  console.log(
    'profile                      req/poll  registers  discovery  polls/s (TCP)  RS485 19200 ms/poll',
  );
  for (const profile of SHIPPED_PROFILES) {
    const figures = await profileFigures(profile);
    console.log(
      `${figures.profile.padEnd(28)} ${String(figures.requestsPerPoll).padStart(8)}  ${String(figures.registersPerPoll).padStart(9)}  ${String(figures.discoveryRequests).padStart(9)}  ${figures.pollsPerSecond.toFixed(0).padStart(13)}  ${figures.rs485PollMs.toFixed(0).padStart(19)}${figures.failed ? `  (${figures.failed} failed)` : ''}`,
    );
  }

  const bus = await busFigures();
  console.log(
    `\none bus, ${bus.meters} meters polled together: ${bus.pollsPerSecond.toFixed(0)} polls/s, ${bus.requestsPerSecond.toFixed(0)} requests/s over TCP; ` +
      `${bus.requestsPerRound} requests per round of all meters; on RS485 at 19200 baud one round takes about ${bus.rs485RoundMs.toFixed(0)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
