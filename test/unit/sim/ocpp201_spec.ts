import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../../lib/clock';
import type { SimulatedChargePoint, SimulatedChargePointOptions } from '../../../sim/charge-point';
import { CliError, HELP, parseCliArgs, runCli } from '../../../sim/cli';
import { waitFor } from '../../support/events';
import {
  controlLoop,
  describeDraws,
  lineA,
  supplyLine,
  type WatchedCharger,
  watchLine,
} from '../../support/peer-site';
import { advance, allSessions, nextMessage, recordMessages, urlOf, useInterop } from '../interop/support';

/**
 * The simulator speaking OCPP 2.0.1 (`ocppVersion: '2.0.1'`, `ampflow-sim --ocpp 2.0.1`) against
 * the package's central system, which serves 2.0.1: registration, sessions, the load manager and
 * the profile manager with a 1.6 simulator on the same supply line, remote start; and from the
 * command line. Simulators run on a ManualClock; where the load manager takes part, the central
 * system and the managers share it. The CSMS's commands: ocpp201-commands_spec.ts; the exact
 * messages on a bare strict 2.0.1 CSMS: ocpp201-messages_spec.ts.
 */

type Json = Record<string, unknown>;

const V201: Partial<SimulatedChargePointOptions> = { ocppVersion: '2.0.1' };

/** A simulator as the car-park helpers watch it: `change` when a draw may have changed, `reported` after an answer. */
function watched(cp: SimulatedChargePoint): WatchedCharger {
  const events = new EventEmitter();
  cp.on('status', () => events.emit('change'));
  cp.on('replied', () => events.emit('change'));
  cp.on('result', () => events.emit('reported'));
  return {
    identity: cp.identity,
    hasConnector: (id) => id >= 1 && id <= cp.connectorCount,
    drawA: (id) => cp.connector(id).currentA,
    offeredA: (id) => cp.connector(id).offeredA,
    statusOf: (id) => cp.connector(id).status,
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
  };
}

/** The raw 2.0.1 requests among the central system's messages, each once (one may become several shared messages). */
function raw201(
  messages: readonly { ocpp?: { action: string; request: unknown } }[],
  action: string,
): Json[] {
  return [...new Set(messages.filter((m) => m.ocpp?.action === action).map((m) => m.ocpp?.request as Json))];
}

describe('SimulatedChargePoint speaking OCPP 2.0.1', () => {
  describe('against the central system', () => {
    const interop = useInterop();

    /** Warnings and errors the central system logged (a 2.0.1 message it found wrong, ...). */
    const complaints = () => interop.harness().log.lines.filter((line) => line.level !== 'info');

    it('boots as an OCPP 2.0.1 charging station and reports its EVSE', async () => {
      const cs = await interop.harness().centralSystem();
      const messages = recordMessages(cs);
      const { cp } = interop.simulator(cs, 'SIM201-1', { ...V201, chargePointSerialNumber: 'SN-201' });
      const boot = await cp.connect();
      assert.equal(boot?.status, 'Accepted');
      assert.equal(cp.protocol, 'ocpp2.0.1');
      assert.equal(cs.chargePoint('SIM201-1')?.protocol, 'ocpp2.0.1');
      assert.equal(cs.bootOf('SIM201-1')?.chargePointSerialNumber, 'SN-201');
      await cp.whenIdle();
      const [raw] = raw201(messages, 'BootNotification');
      assert.deepEqual(raw, {
        chargingStation: {
          vendorName: 'ampflow',
          model: 'SimCharger',
          serialNumber: 'SN-201',
          firmwareVersion: '1.0.0',
        },
        reason: 'PowerUp',
      });
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Available');
      assert.deepEqual(complaints(), []);
    });

    it('runs a car session: start, meter values, stop, recorded with the charger transaction id', async () => {
      const cs = await interop.harness().centralSystem();
      const { cp, clock } = interop.simulator(cs, 'SIM201-1', {
        ...V201,
        connectors: [{ initialEnergyWh: 5000 }],
        configuration: { MeterValueSampleInterval: 60 },
      });
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16, capacityKWh: 100, socPercent: 10 });
      const assigned = waitFor<[{ transactionId: number }]>(cp, 'transactionId');
      await cp.startTransaction(1, 'TAG-1');
      const [{ transactionId }] = await assigned;
      const chargerTransactionId = cp.transactionId201(transactionId);
      assert.match(chargerTransactionId ?? '', /^[0-9a-f-]{36}$/);
      await cp.whenIdle();
      assert.equal(cs.connectorOf('SIM201-1', 1)?.transaction?.idTag, 'TAG-1');

      // Half an hour at 16 A on three phases: 5 520 Wh, a TransactionEvent Updated every minute.
      await advance(cp, clock, 1_800_000, 60_000);
      const state = cs.connectorOf('SIM201-1', 1);
      assert.equal(state?.status, 'Charging');
      assert.deepEqual(state?.currentA, [16, 16, 16]);
      assert.equal(state?.energyWh, 5000 + 5520);

      const stopped = nextMessage(cs, 'StopTransaction');
      await cp.stopTransaction(1);
      await stopped;
      await cp.whenIdle();
      cp.unplug(1);
      await cp.whenIdle();
      const sessions = await allSessions(cs);
      assert.equal(sessions.length, 1);
      const [session] = sessions;
      assert.equal(session?.chargerTransactionId, chargerTransactionId);
      assert.equal(session?.idTag, 'TAG-1');
      assert.equal(session?.meterStartWh, 5000);
      assert.equal(session?.meterStopWh, 10_520);
      assert.equal(session?.energyWh, 5520);
      assert.equal(session?.stopReason, 'Local');
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Available');
      assert.deepEqual(complaints(), []);
    });

    it('shares a supply line with an OCPP 1.6 simulator under the load manager', async function () {
      this.timeout(20_000);
      const clock = new ManualClock();
      const cs = await interop.harness().centralSystem({ clock });
      const loop = controlLoop(cs, supplyLine(['SIM16-1', 'SIM201-1'], 32), clock, { clock });
      interop.track({ close: () => loop.stop() });
      const cp16 = interop.simulator(cs, 'SIM16-1', { clock }).cp;
      const cp201 = interop.simulator(cs, 'SIM201-1', { ...V201, clock }).cp;
      const sims = [cp16, cp201];
      const all = sims.map(watched);
      const watch = watchLine(all);
      interop.track({ close: async () => watch.stop() });
      /** Time moves a second at a time, everything answered in between, until `done` holds. */
      const runUntil = async (done: () => boolean, maxS: number) => {
        for (let s = 0; ; s++) {
          for (let round = 0; round < 3; round++) {
            for (const cp of sims) {
              await loop.profiles.whenSettled(cp.identity);
              await cp.whenIdle();
            }
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (done()) return;
          if (s >= maxS) assert.fail(`not within ${maxS} s: ${describeDraws(all)}`);
          clock.advance(1000);
        }
      };
      await cp16.connect();
      await cp201.connect();
      cp16.plugIn(1, { maxCurrentA: 32 });
      cp201.plugIn(1, { maxCurrentA: 32 });
      await cp16.startTransaction(1, 'TAG-16');
      await cp201.startTransaction(1, 'TAG-201');

      // Both charge, half the line each; the line never carries more than it may.
      const drawA = (cp: SimulatedChargePoint) => cp.connector(1).currentA[0];
      await runUntil(() => drawA(cp16) === 16 && drawA(cp201) === 16, 120);
      assert.ok(lineA(all).every((a) => a <= 32));
      assert.equal(cs.chargePoint('SIM201-1')?.protocol, 'ocpp2.0.1');
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Charging');

      // The 1.6 car leaves: the 2.0.1 car gets the whole line (its TxProfile names the 2.0.1 id).
      await cp16.stopTransaction(1);
      cp16.unplug(1);
      await runUntil(() => drawA(cp201) === 32, 120);
      const txProfile = cp201.chargingProfiles.find(
        ({ profile }) => profile.chargingProfilePurpose === 'TxProfile',
      );
      const txId = cp201.connector(1).transaction?.transactionId;
      assert.equal(txProfile?.profile.transactionId, txId);
      assert.ok(watch.highestA <= 32, `at one moment ${watch.highestA} A: ${watch.at}`);

      await cp201.stopTransaction(1);
      await cp201.whenIdle();
      const sessions = await allSessions(cs);
      const ours = sessions.find((session) => session.chargePointId === 'SIM201-1');
      assert.equal(ours?.chargerTransactionId, cp201.transactionId201(txId as number));
      assert.ok((ours?.energyWh ?? 0) > 0);
      assert.deepEqual(loop.feedErrors, []);
      assert.deepEqual(complaints(), []);
    });

    it('starts a session on RemoteStartTransaction and stops it on RemoteStopTransaction', async () => {
      const cs = await interop.harness().centralSystem();
      const messages = recordMessages(cs);
      const { cp } = interop.simulator(cs, 'SIM201-1', V201);
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.whenIdle();
      const started = nextMessage(cs, 'StartTransaction');
      const answer = await cs.call('SIM201-1', 'RemoteStartTransaction', {
        connectorId: 1,
        idTag: 'REMOTE-1',
      });
      assert.equal(answer.status, 'Accepted');
      await started;
      await cp.whenIdle();
      const [start] = raw201(messages, 'TransactionEvent').filter((e) => e.eventType === 'Started');
      assert.equal(start?.triggerReason, 'RemoteStart');
      assert.equal(typeof (start?.transactionInfo as Json | undefined)?.remoteStartId, 'number');
      assert.deepEqual(start?.idToken, { idToken: 'REMOTE-1', type: 'Central' });
      const [open] = cs.openTransactions().filter((tx) => tx.chargePointId === 'SIM201-1');
      assert.equal(open?.idTag, 'REMOTE-1');
      assert.equal(cp.connector(1).status, 'Charging');

      const stopped = nextMessage(cs, 'StopTransaction');
      const stop = await cs.call('SIM201-1', 'RemoteStopTransaction', {
        transactionId: open?.transactionId as number,
      });
      assert.equal(stop.status, 'Accepted');
      await stopped;
      await cp.whenIdle();
      const [end] = raw201(messages, 'TransactionEvent').filter((e) => e.eventType === 'Ended');
      assert.equal(end?.triggerReason, 'RemoteStop');
      assert.equal((end?.transactionInfo as Json | undefined)?.stoppedReason, 'Remote');
      const [session] = await allSessions(cs);
      assert.equal(session?.stopReason, 'Remote');
      assert.equal(session?.idTag, 'REMOTE-1');
      assert.deepEqual(complaints(), []);
    });
  });

  describe('ampflow-sim --ocpp', () => {
    const interop = useInterop();

    it('parses the version, a list of them, and refuses others', () => {
      const parse = (...args: string[]) => parseCliArgs(['--url', 'ws://host:9000/', ...args]);
      assert.deepEqual((parse('--ocpp', '2.0.1') as { ocppVersions?: string[] }).ocppVersions, ['2.0.1']);
      assert.deepEqual((parse('--ocpp', '1.6,ocpp2.0.1') as { ocppVersions?: string[] }).ocppVersions, [
        '1.6',
        '2.0.1',
      ]);
      assert.equal('ocppVersions' in (parse() as object), false);
      assert.equal(parseCliArgs(['--ocpp', '2.0.1', '--help']), 'help');
      for (const bad of ['2.1', '', '1.5']) {
        assert.throws(
          () => parse('--ocpp', bad),
          (err) => err instanceof CliError && err.option === '--ocpp',
        );
      }
      assert.ok(HELP.includes('  --ocpp <version>'));
    });

    it('runs a mixed site: OCPP 1.6 and 2.0.1 chargers in turn', async function () {
      this.timeout(10_000);
      const cs = await interop.harness().centralSystem();
      const out: string[] = [];
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let accepted = 0;
      const code = await runCli(
        [
          '--url',
          urlOf(cs),
          '--count',
          '2',
          '--prefix',
          'MIX-',
          '--ocpp',
          '1.6,2.0.1',
          '--session-minutes',
          '0',
          '--quirk',
          'celciusSpelling',
        ],
        {
          out: (line) => {
            out.push(line);
            if (/BootNotification Accepted/.test(line) && ++accepted === 2) stop();
          },
          err: (line) => out.push(`ERR ${line}`),
          stopped,
        },
      );
      assert.equal(code, 0);
      assert.match(out[0] ?? '', /2 charge point\(s\) MIX-1\.\.MIX-2 -> .* \(OCPP 1\.6, 2\.0\.1\)/);
      assert.ok(out.some((line) => /MIX-1 connected \(sub-protocol "ocpp1\.6"\)/.test(line)));
      assert.ok(out.some((line) => /MIX-2 connected \(sub-protocol "ocpp2\.0\.1"\)/.test(line)));
      assert.match(out.at(-1) ?? '', /2 accepted/);
      assert.ok(out.includes('ampflow-sim: --quirk applies to the OCPP 1.6 chargers only'));
    });
  });
});
