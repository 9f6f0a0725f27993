import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import type { SessionRecord } from '../../lib/ocpp/central-state';
import { CentralSystem } from '../../lib/ocpp/central-system';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { BOOT, RecordingLogger } from '../support/ocpp';
import { freePort } from '../support/ports';
import { RunningProcess } from '../support/process';
import { UpstreamBackend } from '../support/upstream-backend';

/**
 * The upstream proxy (keep the operator's backend, issue #14) under SIGKILL. A charger charges
 * through ampflow while the operator's backend is away: ampflow answers its StartTransaction and
 * MeterValues itself and keeps them for the backend (ChargePointPort.storeData, the central
 * system's durable record). ampflow (central system + proxy in a child process with its data
 * directory, as crash_spec.ts) is killed with SIGKILL the moment the last MeterValues is answered,
 * restarts on the same data directory, the charger reconnects and stops, and the backend comes
 * back: it must receive StartTransaction, every MeterValues and StopTransaction in the order the
 * charger sent them, once each, the later ones with the backend's own transaction id.
 * AMPFLOW_UPSTREAM_CRASH_ROUNDS sets how many sessions (each a kill) are run.
 */

const childFile = join(__dirname, 'support/upstream-crash-child.ts');
const ROUNDS = Number(process.env.AMPFLOW_UPSTREAM_CRASH_ROUNDS ?? 3);
const IDENTITY = 'CP-K';
const METER_VALUES = 3;
const TRANSACTION_MESSAGES = ['StartTransaction', 'MeterValues', 'StopTransaction'];

/** ampflow as a child process whose proxy clock the test moves (`advance <ms>` on its stdin). */
function startAmpflow(dataDirectory: string, port: number, upstreamUrl: string): RunningProcess {
  return new RunningProcess(
    spawn(process.execPath, ['--require', 'tsx/cjs', childFile, dataDirectory, String(port), upstreamUrl], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

async function listening(child: RunningProcess): Promise<void> {
  try {
    await child.waitForLine(/^listening /, 30_000);
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

const meterValue = (transactionId: number, wh: number, at: string) => ({
  connectorId: 1,
  transactionId,
  meterValue: [
    {
      timestamp: at,
      sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
    },
  ],
});

/** The sessions and open transactions of the data directory, opened as ampflow does after a restart. */
async function ledgerOf(dataDirectory: string): Promise<{ sessions: SessionRecord[]; open: number[] }> {
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    dataDirectory,
    log: new RecordingLogger(),
    unknownChargePoints: 'accept',
  });
  await cs.start();
  try {
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    return { sessions, open: cs.openTransactions().map((tx) => tx.transactionId) };
  } finally {
    await cs.stop();
  }
}

describe('the upstream proxy under SIGKILL', function () {
  this.timeout(60_000 + ROUNDS * 30_000);
  const directories: string[] = [];
  const children: RunningProcess[] = [];
  const chargers: RPCClient[] = [];
  const backends: UpstreamBackend[] = [];
  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((c) => c.close({ force: true }).catch(() => undefined)));
    await Promise.all(children.splice(0).map((child) => child.stop('SIGKILL')));
    await Promise.all(backends.splice(0).map((backend) => backend.stop()));
  });
  after(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: a session answered locally survives the kill and reaches the backend in order, once each, with the backend’s id`, async () => {
      const backend = new UpstreamBackend();
      backends.push(backend);
      await backend.start();
      const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-upstream-crash-'));
      directories.push(dataDirectory);
      const port = await freePort();
      const endpoint = `ws://127.0.0.1:${port}`;

      // First life: the charger boots through ampflow to its backend, then the backend goes away.
      const first = startAmpflow(dataDirectory, port, backend.url);
      children.push(first);
      await listening(first);
      const charger = rpcChargePoint(endpoint, IDENTITY, { callTimeoutMs: 10_000 });
      chargers.push(charger);
      await charger.connect();
      await first.waitForLine(new RegExp(`^link ${IDENTITY} open`), 10_000);
      const boot = (await charger.call('BootNotification', BOOT)) as { status: string };
      assert.equal(boot.status, 'Accepted');
      assert.equal(backend.of('BootNotification').length, 1, 'the boot went to the backend');
      await backend.stop();
      await first.waitForLine(new RegExp(`^link ${IDENTITY} connecting`), 10_000);

      // Charging while the backend is away: ampflow answers with its own transaction id.
      const startedAt = Date.now();
      const at = (minutes: number) => new Date(startedAt + minutes * 60_000).toISOString();
      const meterStart = 1000 * round;
      const start = (await charger.call('StartTransaction', {
        connectorId: 1,
        idTag: 'TAG-K',
        meterStart,
        timestamp: at(0),
      })) as { transactionId: number; idTagInfo: { status: string } };
      assert.equal(start.idTagInfo.status, 'Accepted');
      const ledgerId = start.transactionId;
      const sentWh: number[] = [];
      for (let n = 1; n <= METER_VALUES; n++) {
        const wh = meterStart + 250 * n;
        sentWh.push(wh);
        await charger.call('MeterValues', meterValue(ledgerId, wh, at(n)));
      }
      // The last MeterValues is answered: ampflow dies now, before anything else can happen.
      first.child.kill('SIGKILL');
      await first.exited;
      await charger.close({ force: true }).catch(() => undefined);
      const badFirst = first.lines.filter((line) => /^(error|failed) /.test(line));
      assert.deepEqual(badFirst, [], 'the first life reported');

      // Second life on the same data directory: the charger reconnects and stops its transaction.
      const second = startAmpflow(dataDirectory, port, backend.url);
      children.push(second);
      await listening(second);
      const again = rpcChargePoint(endpoint, IDENTITY, { callTimeoutMs: 10_000 });
      chargers.push(again);
      await again.connect();
      // The link tried the backend, found it away, and waits for its retry on the manual clock.
      await second.waitForLine(new RegExp(`^warn upstream of ${IDENTITY}: cannot connect`), 10_000);
      const meterStop = meterStart + 250 * (METER_VALUES + 1);
      const stop = (await again.call('StopTransaction', {
        transactionId: ledgerId,
        meterStop,
        timestamp: at(METER_VALUES + 1),
        reason: 'Local',
      })) as { idTagInfo?: { status: string } };
      assert.notEqual(stop.idTagInfo?.status, 'Invalid');

      // The backend comes back; the proxy's retry falls due.
      await backend.start();
      const stopped = waitFor<[{ action: string }]>(
        backend,
        'call',
        (c) => c.action === 'StopTransaction',
        15_000,
      );
      const drained = second.nextLine(new RegExp(`^drained ${IDENTITY}`), 15_000);
      second.child.stdin?.write('advance 120000\n');
      await stopped;
      await drained;

      const upstream = backend.calls.filter((c) => TRANSACTION_MESSAGES.includes(c.action));
      const summary = JSON.stringify(upstream.map((c) => [c.action, c.params.transactionId ?? '-']));
      assert.deepEqual(
        upstream.map((c) => c.action),
        ['StartTransaction', ...sentWh.map(() => 'MeterValues'), 'StopTransaction'],
        `the backend got, in order, once each: ${summary}`,
      );
      const [started, ...later] = upstream;
      assert.equal(started?.params.meterStart, meterStart);
      assert.equal(started?.params.timestamp, at(0), 'the start as the charger sent it');
      const backendId = 7001;
      assert.deepEqual(
        later.map((c) => c.params.transactionId),
        later.map(() => backendId),
        `the backend's own transaction id on every later message: ${summary}`,
      );
      assert.deepEqual(
        later
          .filter((c) => c.action === 'MeterValues')
          .map((c) => {
            const values = c.params.meterValue as { sampledValue: { value: string }[] }[];
            return Number(values[0]?.sampledValue[0]?.value);
          }),
        sentWh,
        'every acknowledged reading, in order',
      );
      assert.equal(later.at(-1)?.params.meterStop, meterStop);
      assert.deepEqual(backend.badMessages, [], 'the strict backend found nothing invalid');
      const bad = second.lines.filter((line) => /^(error|failed) /.test(line));
      assert.deepEqual(bad, [], 'the second life reported');

      // ampflow's own ledger: the one session, under its own id, recorded once.
      await again.close({ force: true });
      await second.stop('SIGKILL');
      const ledger = await ledgerOf(dataDirectory);
      assert.deepEqual(
        ledger.sessions.map((s) => [s.transactionId, s.meterStartWh, s.meterStopWh]),
        [[ledgerId, meterStart, meterStop]],
      );
      assert.deepEqual(ledger.open, []);
    });
  }
});
