import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/events';
import { freePort } from '../support/ports';
import { type RunningProcess, run } from '../support/process';
import { repoRoot } from '../support/repo';
import { UpstreamBackend } from '../support/upstream-backend';

const bin = (name: string) => join(repoRoot, 'dist', 'bin', `${name}.js`);

describe(`command-line tools (Node.js ${process.version})`, function () {
  this.timeout(60000);
  let dataDirectory: string;
  const running: RunningProcess[] = [];

  beforeEach(() => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-cli-e2e-'));
  });

  afterEach(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    running.length = 0;
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('ampflow-sim chargers dial ampflow-cs, charge, and both stop cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const cs = run(process.execPath, [
      bin('ampflow-cs'),
      ...['--host', '127.0.0.1', '--port', String(port), '--unknown', 'accept', '--accept-all-id-tags'],
      ...['--data-dir', dataDirectory],
    ]);
    running.push(cs);
    await cs.waitForLine(/OCPP central system listening on ws:\/\/127\.0\.0\.1:\d+\//);

    const sim = run(process.execPath, [
      bin('ampflow-sim'),
      ...['--url', `ws://127.0.0.1:${port}/`, '--count', '3', '--prefix', 'E2E-'],
      ...['--session-minutes', '0.02', '--gap-minutes', '0.01', '--meter-interval', '1'],
    ]);
    running.push(sim);
    for (const id of ['E2E-1', 'E2E-2', 'E2E-3']) {
      await cs.waitForLine(new RegExp(`^\\S+ ${id} -> \\[2,"[^"]+","BootNotification"`));
    }
    // Two finished sessions per charger: the central system has answered their StopTransactions.
    await cs.waitForLine(/ E2E-\d -> \[2,"[^"]+","StopTransaction"/, 30000, 5);

    const simExit = await sim.stop('SIGINT');
    assert.equal(simExit.code, 0);
    assert.match(
      sim.lines.join('\n'),
      /3 charge point\(s\), 3 connected, 3 accepted; sessions \d+ started, \d+ finished, 0 refused/,
    );
    const csExit = await cs.stop('SIGINT');
    assert.equal(csExit.code, 0);
    assert.equal(cs.lines.filter((line) => / error: /.test(line)).length, 0, cs.lines.join('\n'));

    const journal = readFileSync(join(dataDirectory, 'journal.jsonl'), 'utf8');
    assert.ok((journal.match(/"transactionStopped"/g) ?? []).length >= 6);
  });

  it('ampflow-sim keeps dialling a central system that is not up yet or restarts (a Node-RED deploy), and numbers its chargers from --first', async () => {
    const port = await freePort();
    const sim = run(process.execPath, [
      bin('ampflow-sim'),
      ...['--url', `ws://127.0.0.1:${port}/`, '--count', '1', '--prefix', 'CP-', '--first', '4'],
      ...['--session-minutes', '0'],
    ]);
    running.push(sim);
    await sim.waitForLine(/ampflow-sim: 1 charge point\(s\) CP-4\.\.CP-4 -> /);
    await sim.waitForLine(/CP-4 cannot connect: .*ECONNREFUSED/);
    const startCs = () => {
      const cs = run(process.execPath, [
        bin('ampflow-cs'),
        ...['--host', '127.0.0.1', '--port', String(port), '--unknown', 'accept'],
      ]);
      running.push(cs);
      return cs;
    };
    const first = startCs();
    await first.waitForLine(/ CP-4 -> \[2,"[^"]+","BootNotification"/, 30000);
    await first.stop('SIGINT');
    await sim.waitForLine(/CP-4 disconnected/);
    const second = startCs();
    await second.waitForLine(/charge point CP-4 connected from/, 30000);
    const exit = await sim.stop('SIGINT');
    assert.equal(exit.code, 0);
    assert.match(sim.lines.join('\n'), /1 charge point\(s\), 1 connected/);
  });

  it('ampflow-cs --upstream-registrations gives each charger the password the backend registered it with', async () => {
    const backend = new UpstreamBackend({
      passwords: { 'REG-1': 'secret-of-one', 'REG-2': 'secret-of-two' },
    });
    await backend.start();
    try {
      const registrations = join(dataDirectory, 'registrations.csv');
      writeFileSync(registrations, 'identity;password\nREG-1;secret-of-one\nREG-2;secret-of-two\n');
      const port = await freePort();
      const cs = run(process.execPath, [
        bin('ampflow-cs'),
        ...['--host', '127.0.0.1', '--port', String(port), '--unknown', 'accept', '--accept-all-id-tags'],
        ...['--upstream', backend.url, '--upstream-registrations', registrations],
        ...['--upstream-decide-within', '5', '--quiet'],
      ]);
      running.push(cs);
      await cs.waitForLine(/OCPP central system listening/);
      const sim = run(process.execPath, [
        bin('ampflow-sim'),
        ...['--url', `ws://127.0.0.1:${port}/`, '--count', '2', '--prefix', 'REG-'],
      ]);
      running.push(sim);
      await cs.waitForLine(/REG-1 is connected to its upstream backend/);
      await cs.waitForLine(/REG-2 is connected to its upstream backend/);
      assert.deepEqual(
        backend.handshakes
          .map((h) => [h.identity, h.password, h.refused])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          ['REG-1', 'secret-of-one', undefined],
          ['REG-2', 'secret-of-two', undefined],
        ],
      );
    } finally {
      await backend.stop();
    }
  });

  it('ampflow-cs --upstream passes every charger through to an operator’s backend (a strict ocpp-rpc server)', async () => {
    const backend = new UpstreamBackend({ password: 'operator-secret' });
    await backend.start();
    try {
      const passwordFile = join(dataDirectory, 'upstream-password');
      writeFileSync(passwordFile, 'operator-secret\n');
      const port = await freePort();
      const cs = run(process.execPath, [
        bin('ampflow-cs'),
        ...['--host', '127.0.0.1', '--port', String(port), '--unknown', 'accept', '--accept-all-id-tags'],
        ...['--upstream', backend.url, '--upstream-password', passwordFile, '--quiet'],
      ]);
      running.push(cs);
      await cs.waitForLine(/OCPP central system listening/);
      const stopped = waitFor<[{ action: string }]>(
        backend,
        'call',
        (c) => c.action === 'StopTransaction',
        30000,
      );
      const sim = run(process.execPath, [
        bin('ampflow-sim'),
        ...['--url', `ws://127.0.0.1:${port}/`, '--count', '1', '--prefix', 'UP-'],
        ...['--session-minutes', '0.02', '--gap-minutes', '0.01', '--meter-interval', '1'],
      ]);
      running.push(sim);
      await cs.waitForLine(/UP-1 is connected to its upstream backend/);
      await stopped;
      assert.ok(backend.of('BootNotification', 'UP-1').length >= 1);
      assert.ok(backend.of('StartTransaction', 'UP-1').length >= 1);
      assert.deepEqual(
        backend.handshakes.map((h) => h.password),
        backend.handshakes.map(() => 'operator-secret'),
      );
      // No load manager here: the backend's limit goes to the charger, which answers and applies it.
      const set = await backend.call('UP-1', 'SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: {
          chargingProfileId: 81,
          stackLevel: 2,
          chargingProfilePurpose: 'TxDefaultProfile',
          chargingProfileKind: 'Relative',
          chargingSchedule: {
            chargingRateUnit: 'A',
            chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
          },
        },
      });
      assert.deepEqual(set, { status: 'Accepted' });
      const composite = (await backend.call('UP-1', 'GetCompositeSchedule', {
        connectorId: 1,
        duration: 60,
        chargingRateUnit: 'A',
      })) as { chargingSchedule?: { chargingSchedulePeriod: { limit: number }[] } };
      assert.equal(
        composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit,
        10,
        'the charger applies it',
      );
      assert.deepEqual(backend.badMessages, []);
      assert.equal((await sim.stop('SIGINT')).code, 0);
      assert.equal((await cs.stop('SIGINT')).code, 0);
      assert.ok(!cs.lines.join('\n').includes('operator-secret'), 'the password is never logged');
    } finally {
      await backend.stop();
    }
  });

  it('scripts/start.mjs --help prints its options and exits 0; a wrong option exits 2 pointing at --help (issue 38)', async () => {
    const start = join(repoRoot, 'scripts', 'start.mjs');
    const help = run(process.execPath, [start, '--help']);
    running.push(help);
    assert.equal((await help.exited).code, 0);
    const text = help.lines.join('\n');
    for (const option of ['--port', '--ocpp-port', '--grid-meter-port', '--inverter-port', '--day-minutes'])
      assert.match(text, new RegExp(`^  ${option} <`, 'm'));
    for (const option of ['--no-site', '--user-dir', '--reset', '-h, --help'])
      assert.match(text, new RegExp(`^  ${option} `, 'm'));
    assert.doesNotMatch(text, /installing the package/, 'nothing started');
    const wrong = run(process.execPath, [start, '--bogus']);
    running.push(wrong);
    assert.equal((await wrong.exited).code, 2);
    assert.match(
      wrong.lines.join('\n'),
      /ampflow demo: Unknown option '--bogus' \(--help lists the options\)/,
    );
  });

  it('ampflow-cs names the option at fault and exits 1', async () => {
    const cs = run(process.execPath, [bin('ampflow-cs'), '--port', '70000']);
    running.push(cs);
    const exit = await cs.exited;
    assert.equal(exit.code, 1);
    assert.match(cs.lines.join('\n'), /ampflow-cs: --port: "70000" is not a TCP port/);
  });
});
