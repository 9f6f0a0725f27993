/**
 * The operator's backend in faults (issue #30): what a charger waits for its MeterValues while the
 * backend hangs, and what the backend gets lost or twice after each fault. One process: the
 * central system (lib/ocpp, a data directory of its own: every write is a real journal line), an
 * UpstreamProxy (lib/upstream) and an operator's backend written elsewhere (@voltbras/ts-ocpp,
 * test/support/ts-ocpp-backend.ts); `--chargers` chargers written from the specification on plain
 * `ws` (test/support/plain-charger.ts), each in a transaction the backend started.
 *
 *   npm run bench:upstream-faults -- [--chargers 20] [--messages 20]
 *
 * Phases, each `--messages` MeterValues per charger, one call in flight per charger:
 *   answering  (floor) the backend answers at once: the time a MeterValues takes to be answered;
 *   hung       the backend takes every MeterValues and never answers (the link hangs up after the
 *              call timeout, 2 s here, and connects again): the same time, ÷ the floor;
 *   away       the backend is stopped; the chargers meter, stop their transactions, half of them
 *              disconnect; the backend comes back.
 * Then, per fault, what the backend got of each charger's messages: lost (sent, answered, never at
 * the backend) and doubled (at the backend twice).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CentralSystem } from '../lib/ocpp/central-system';
import { UpstreamProxy } from '../lib/upstream/proxy';
import { parseUpstreamSettings } from '../lib/upstream/settings';
import { PlainCharger } from '../test/support/plain-charger';
import { TsOcppBackend } from '../test/support/ts-ocpp-backend';
import { machineLine, median, percentile } from './support/machine';
import { benchOptions } from './support/options';

const { chargers: count, messages } = benchOptions(
  { chargers: 20, messages: 20 },
  { chargers: 2, messages: 3 },
);

async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Each charger sends `messages` MeterValues one after the other; the answer times in ms. */
async function meter(chargers: PlainCharger[]): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    chargers.map(async (cp) => {
      for (let i = 0; i < messages; i++) {
        const started = process.hrtime.bigint();
        await cp.sendMeterValues(1);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }),
  );
  return times;
}

/** Of the backend's MeterValues from `since` on: per charger, (sent - distinct got) and (got - distinct). */
function lostAndDoubled(backend: TsOcppBackend, since: number, sent: Map<string, number>) {
  let lost = 0;
  let doubled = 0;
  for (const [identity, count] of sent) {
    const got = backend.calls
      .slice(since)
      .filter((c) => c.identity === identity && c.action === 'MeterValues')
      .map((c) => JSON.stringify(c.params.meterValue));
    const distinct = new Set(got).size;
    lost += Math.max(0, count - distinct);
    doubled += got.length - distinct;
  }
  return { lost, doubled };
}

const summary = (times: number[]) =>
  `median ${median(times).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`;

async function main(): Promise<void> {
  console.log(machineLine());
  const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-bench-faults-'));
  const backend = new TsOcppBackend();
  await backend.start();
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    unknownChargePoints: 'accept',
    readConfigurationOnBoot: false,
    dataDirectory,
    authorization: { policy: 'acceptAll' },
  });
  await cs.start();
  const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url, callTimeoutMs: 2000 }));
  const chargers: PlainCharger[] = [];
  // Every meter value carries its own register reading: the backend's copies are told apart by it.
  let clockMs = Date.parse('2026-11-25T08:00:00Z');
  try {
    for (let i = 1; i <= count; i++) {
      const cp = new PlainCharger(`FAULT-${String(i).padStart(3, '0')}`, { now: () => (clockMs += 1000) });
      chargers.push(cp);
      await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
      await cp.startSession(1, `TAG-${i}`, { maxA: 16, phases: 3 });
    }
    await until(() => proxy.status().every((link) => link.queued === 0), 'the starts at the backend');

    const floor = await meter(chargers);
    console.log(`answering backend: ${summary(floor)} per MeterValues (${floor.length})`);

    let since = backend.calls.length;
    backend.hang = (action) => action === 'MeterValues';
    const hung = await meter(chargers);
    console.log(
      `hung backend:      ${summary(hung)}; p99 ÷ floor ${(percentile(hung, 99) / percentile(floor, 99)).toFixed(2)}`,
    );
    backend.hang = undefined;
    await until(
      () => proxy.status().every((link) => link.state === 'open' && link.queued === 0),
      'drained',
      120_000,
    );
    const sentHung = new Map(chargers.map((cp) => [cp.identity, messages]));
    const afterHang = lostAndDoubled(backend, since, sentHung);
    console.log(
      `after the hang:    lost ${afterHang.lost}, doubled ${afterHang.doubled} of ${hung.length} MeterValues`,
    );

    since = backend.calls.length;
    await backend.stop();
    await until(() => proxy.status().every((link) => link.state !== 'open'), 'links down');
    const away = await meter(chargers);
    const stops = chargers.map((cp) => cp.stopSession(1));
    await Promise.all(stops);
    await Promise.all(chargers.slice(0, Math.floor(count / 2)).map((cp) => cp.close()));
    await backend.start();
    await until(() => proxy.status().every((link) => link.queued === 0), 'drained after the outage', 180_000);
    const afterOutage = lostAndDoubled(
      backend,
      since,
      new Map(chargers.map((cp) => [cp.identity, messages])),
    );
    const stopsGot = backend.calls.slice(since).filter((c) => c.action === 'StopTransaction').length;
    console.log(
      `backend away:      ${summary(away)}; after it came back: lost ${afterOutage.lost}, doubled ${afterOutage.doubled} of ${away.length} MeterValues; ${stopsGot} of ${count} stops (${Math.floor(count / 2)} chargers left meanwhile)`,
    );
  } finally {
    await Promise.all(chargers.map((cp) => cp.close().catch(() => undefined)));
    await proxy.close();
    await cs.stop();
    await backend.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
