import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { CentralSystem, ChargePointMessage } from '../../../lib/ocpp/central-system';
import type { MeterValuesPayload } from '../../../lib/ocpp/handlers';
import type { MeterValuesRequest } from '../../../lib/ocpp/messages';
import type { Violation } from '../../../lib/ocpp/v16/validation';
import type { CpAction, Quirks, SimulatedChargePoint } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import {
  advance,
  allSessions,
  nextMessage,
  recordMessages,
  recordSessions,
  roundTrip,
  type Simulated,
  useInterop,
} from './support';

type ViolationEvent = Violation & { chargePointId: string };
type CallErrorEvent = { action: CpAction; request: unknown; error: Error & { rpcErrorCode?: string } };

function recordViolations(cs: CentralSystem): ViolationEvent[] {
  const violations: ViolationEvent[] = [];
  cs.on('violation', (violation: ViolationEvent) => violations.push(violation));
  return violations;
}

/** The CallError the simulator gets for its next `action`. */
async function nextCallError(cp: SimulatedChargePoint, action: CpAction): Promise<CallErrorEvent> {
  const [event] = await waitFor<[CallErrorEvent]>(
    cp as unknown as EventEmitter,
    'callError',
    (e) => e.action === action,
  );
  return event;
}

/** Asks the simulator for MeterValues of connector 1 now (TriggerMessage, so no retries). */
async function triggerMeterValues(cs: CentralSystem, cp: SimulatedChargePoint) {
  assert.deepEqual(
    await roundTrip(cs, cp, 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }),
    {
      status: 'Accepted',
    },
  );
}

const LENIENT = { chargePoints: { 'CP-Q': { lenient: true } } };

describe('interop: simulator quirks against a strict and a lenient central system', () => {
  const interop = useInterop();

  function quirky(cs: CentralSystem, quirks: Partial<Quirks>, measurands?: string): Simulated {
    return interop.simulator(cs, 'CP-Q', {
      quirks,
      chargeBoxSerialNumber: 'EVB-P2145016',
      configuration: measurands ? { MeterValuesSampledData: measurands } : {},
    });
  }

  describe('noSubProtocol', () => {
    it('the charger offers no sub-protocol and is served as OCPP 1.6: boot, a session, strict validation as usual', async () => {
      const cs = await interop.harness().centralSystem();
      const violations = recordViolations(cs);
      const connected = waitFor<[{ chargePointId: string; protocol: string }]>(cs, 'connect');
      const { cp } = quirky(cs, { noSubProtocol: true });
      assert.equal((await cp.connect())?.status, 'Accepted');
      assert.equal((await connected)[0].protocol, '');
      assert.equal(cp.protocol || '', '');
      assert.equal(cs.chargePoint('CP-Q')?.protocol, '');
      assert.equal(
        interop
          .harness()
          .log.matching(/charge point CP-Q connected from .*\(no sub-protocol offered, served as ocpp1\.6\)/)
          .length,
        1,
      );
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await cp.stopTransaction(1);
      await cp.whenIdle();
      assert.equal((await allSessions(cs)).length, 1);
      assert.deepEqual(violations, []);
    });

    it('a lenient central system serves it the same way', async () => {
      const cs = await interop.harness().centralSystem(LENIENT);
      const { cp } = quirky(cs, { noSubProtocol: true });
      assert.equal((await cp.connect())?.status, 'Accepted');
      assert.equal(cs.chargePoint('CP-Q')?.protocol, '');
    });
  });

  describe('longSerialNumber (35 characters where CiString25 allows 25)', () => {
    it('strict: BootNotification is refused with PropertyConstraintViolation, logged with charger, action and field', async () => {
      const cs = await interop.harness().centralSystem();
      const violations = recordViolations(cs);
      const messages = recordMessages(cs);
      const { cp } = quirky(cs, { longSerialNumber: true });
      const refused = nextCallError(cp, 'BootNotification');
      await assert.rejects(cp.connect(), /chargeBoxSerialNumber/);
      const { error } = await refused;
      assert.equal(error.rpcErrorCode, 'PropertyConstraintViolation');
      const logged = interop
        .harness()
        .log.matching(
          /charge point CP-Q: BootNotification request breaks the OCPP 1\.6 schema, refused: chargeBoxSerialNumber: must NOT have more than 25 characters/,
          'warn',
        );
      assert.equal(logged.length, 1);
      assert.deepEqual(
        violations.map((v) => [v.chargePointId, v.action, v.kind, v.errorCode]),
        [['CP-Q', 'BootNotification', 'request', 'PropertyConstraintViolation']],
      );
      assert.deepEqual(messages, []);
      assert.equal(cs.chargePoint('CP-Q')?.registration, undefined);
      assert.equal(cp.registration, undefined);
    });

    it('lenient: Accepted with the serial number as sent, the violation logged', async () => {
      const cs = await interop.harness().centralSystem(LENIENT);
      const violations = recordViolations(cs);
      const { cp } = quirky(cs, { longSerialNumber: true });
      assert.equal((await cp.connect())?.status, 'Accepted');
      const serial = cs.chargePoint('CP-Q')?.boot?.request.chargeBoxSerialNumber ?? '';
      assert.equal(serial.length, 35);
      assert.match(serial, /^EVB-P2145016-0+$/);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /charge point CP-Q: BootNotification request breaks the OCPP 1\.6 schema, accepted \(lenient\): chargeBoxSerialNumber/,
            'warn',
          ).length,
        1,
      );
      assert.equal(violations.length, 1);
    });
  });

  describe('extraProperties (customData in BootNotification and MeterValues)', () => {
    it('strict: BootNotification is refused with FormationViolation naming the property', async () => {
      const cs = await interop.harness().centralSystem();
      const { cp } = quirky(cs, { extraProperties: true });
      const refused = nextCallError(cp, 'BootNotification');
      await assert.rejects(cp.connect());
      const { error } = await refused;
      assert.equal(error.rpcErrorCode, 'FormationViolation');
      assert.match(error.message, /customData: is not a field of this message/);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /charge point CP-Q: BootNotification request breaks the OCPP 1\.6 schema, refused: customData: is not a field of this message/,
            'warn',
          ).length,
        1,
      );
    });

    it('lenient: BootNotification and MeterValues are processed, each violation logged', async () => {
      const cs = await interop.harness().centralSystem(LENIENT);
      const violations = recordViolations(cs);
      const { cp } = quirky(cs, { extraProperties: true });
      assert.equal((await cp.connect())?.status, 'Accepted');
      const arrived = nextMessage(cs, 'MeterValues');
      await triggerMeterValues(cs, cp);
      const message = await arrived;
      assert.deepEqual((message.request as { customData?: unknown }).customData, {
        vendorId: 'com.ampflow.sim',
      });
      assert.equal((message.payload as MeterValuesPayload).importWh, 0);
      assert.deepEqual(
        violations.map((v) => [v.action, v.errorCode, v.summary]),
        [
          ['BootNotification', 'FormationViolation', 'customData: is not a field of this message'],
          ['MeterValues', 'FormationViolation', 'customData: is not a field of this message'],
        ],
      );
      assert.equal(
        interop.harness().log.matching(/CP-Q: \w+ request .* accepted \(lenient\): customData/).length,
        2,
      );
    });
  });

  describe('frequencyUnitHz (unit Hz, which 1.6’s UnitOfMeasure lacks)', () => {
    const measurands = 'Frequency,Energy.Active.Import.Register';

    it('strict: MeterValues is refused with PropertyConstraintViolation naming the field', async () => {
      const cs = await interop.harness().centralSystem();
      const messages = recordMessages(cs);
      const { cp } = quirky(cs, { frequencyUnitHz: true }, measurands);
      await cp.connect();
      await cp.whenIdle();
      const refused = nextCallError(cp, 'MeterValues');
      await triggerMeterValues(cs, cp);
      const { error } = await refused;
      assert.equal(error.rpcErrorCode, 'PropertyConstraintViolation');
      assert.match(error.message, /meterValue\[0\]\.sampledValue\[0\]\.unit: must be one of/);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /charge point CP-Q: MeterValues request breaks the OCPP 1\.6 schema, refused: meterValue\[0\]\.sampledValue\[0\]\.unit/,
            'warn',
          ).length,
        1,
      );
      assert.equal(messages.filter((m) => m.action === 'MeterValues').length, 0);
    });

    it('strict, during a transaction: the simulator retries the refused MeterValues, drops them (3.7), and the session still closes', async () => {
      const cs = await interop.harness().centralSystem();
      const sessions = recordSessions(cs);
      const { cp, clock } = interop.simulator(cs, 'CP-Q', {
        quirks: { frequencyUnitHz: true },
        configuration: {
          MeterValuesSampledData: measurands,
          MeterValueSampleInterval: 60,
          TransactionMessageAttempts: 2,
          TransactionMessageRetryInterval: 10,
        },
      });
      const dropped: string[] = [];
      cp.on('messageDropped', ({ action }) => dropped.push(action));
      await cp.connect();
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await advance(cp, clock, 80_000, 10_000);
      assert.deepEqual(dropped, ['MeterValues']);
      await cp.stopTransaction(1);
      await cp.whenIdle();
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]?.energyWh, Math.round(cp.connector(1).energyWh));
    });

    it('lenient: processed, frequency read in Hz, the violation and the unit logged', async () => {
      const cs = await interop.harness().centralSystem(LENIENT);
      const { cp } = quirky(cs, { frequencyUnitHz: true }, measurands);
      await cp.connect();
      const arrived = nextMessage(cs, 'MeterValues');
      await triggerMeterValues(cs, cp);
      assert.equal(((await arrived).payload as MeterValuesPayload).frequencyHz, 50);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /CP-Q: MeterValues request .* accepted \(lenient\): meterValue\[0\]\.sampledValue\[0\]\.unit/,
          ).length,
        1,
      );
      assert.equal(
        interop
          .harness()
          .log.matching(/CP-Q meter values: Frequency: unit 'Hz' is not an OCPP 1\.6 unit; accepted/).length,
        1,
      );
    });
  });

  describe('missingMeterTimestamp', () => {
    it('strict: MeterValues is refused with OccurenceConstraintViolation naming the timestamp', async () => {
      const cs = await interop.harness().centralSystem();
      const { cp } = quirky(cs, { missingMeterTimestamp: true });
      await cp.connect();
      const frames: string[] = [];
      cs.on('frame', ({ direction, frame }: { direction: string; frame: string }) => {
        if (direction === 'out' && frame.startsWith('[4,')) frames.push(frame);
      });
      const refused = nextCallError(cp, 'MeterValues');
      await triggerMeterValues(cs, cp);
      const { error } = await refused;
      // OCPP-J 1.6 section 4.2.3 spells it OccurenceConstraintViolation; errata 5.1: "Do not fix".
      assert.equal(
        (JSON.parse(frames[0] ?? '[]') as unknown[])[2],
        'OccurenceConstraintViolation',
        `the CallError on the wire: ${frames[0]}`,
      );
      assert.equal(error.rpcErrorCode, 'OccurenceConstraintViolation');
      assert.match(error.message, /meterValue\[0\]\.timestamp: is required/);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /charge point CP-Q: MeterValues request breaks the OCPP 1\.6 schema, refused: meterValue\[0\]\.timestamp: is required/,
            'warn',
          ).length,
        1,
      );
    });

    it('lenient: processed with the receive time as timestamp, which is logged', async () => {
      const cs = await interop.harness().centralSystem(LENIENT);
      const { cp } = quirky(cs, { missingMeterTimestamp: true });
      await cp.connect();
      const arrived = nextMessage(cs, 'MeterValues');
      await triggerMeterValues(cs, cp);
      const message = await arrived;
      assert.equal((message.request as MeterValuesRequest).meterValue[0]?.timestamp, undefined);
      assert.equal((message.payload as MeterValuesPayload).timestamp, message.receivedAt);
      assert.equal(
        interop
          .harness()
          .log.matching(
            /CP-Q: MeterValues request .* accepted \(lenient\): meterValue\[0\]\.timestamp: is required/,
          ).length,
        1,
      );
      assert.equal(
        interop
          .harness()
          .log.matching(/CP-Q meter values: meterValue\[0\] has no timestamp; used the receive time/).length,
        1,
      );
    });
  });

  describe('celciusSpelling (errata 2.1: the original schema’s "Celcius")', () => {
    for (const lenient of [false, true]) {
      it(`${lenient ? 'lenient' : 'strict'}: schema-valid, processed as Celsius without a violation`, async () => {
        const cs = await interop.harness().centralSystem(lenient ? LENIENT : {});
        const violations = recordViolations(cs);
        const { cp } = quirky(cs, { celciusSpelling: true }, 'Temperature,Energy.Active.Import.Register');
        await cp.connect();
        const arrived = nextMessage(cs, 'MeterValues');
        await triggerMeterValues(cs, cp);
        const message: ChargePointMessage = await arrived;
        const sampled = (message.request as MeterValuesRequest).meterValue[0]?.sampledValue ?? [];
        assert.equal(sampled.find((v) => v.measurand === 'Temperature')?.unit, 'Celcius');
        assert.equal((message.payload as MeterValuesPayload).temperatureC, 25);
        assert.deepEqual(violations, []);
        assert.deepEqual(interop.harness().log.matching(/CP-Q/, 'warn'), []);
      });
    }
  });
});
