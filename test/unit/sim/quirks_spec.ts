import assert from 'node:assert/strict';
import { createValidator } from 'ocpp-rpc';
import schemas from 'ocpp-rpc/lib/schemas/ocpp1_6.json';
import type { MeterValuesRequest } from '../../../lib/ocpp/messages';
import type { Quirks, SimulatedChargePoint } from '../../../sim/charge-point';
import { advance, simulator, TestCentralSystem } from './harness';

/** The OCA 1.6 schemas as ocpp-rpc ships them, for checking what exactly a quirk breaks. */
const ocpp16 = createValidator('ocpp1.6', schemas);
const validates = (action: string, payload: unknown) => {
  try {
    ocpp16.validate(`urn:${action}.req`, payload);
    return true;
  } catch {
    return false;
  }
};

type SampledValue = MeterValuesRequest['meterValue'][number]['sampledValue'][number];

describe('SimulatedChargePoint: vendor quirks', () => {
  let cs: TestCentralSystem;
  let cp: SimulatedChargePoint | undefined;

  /** A lenient central system that records what arrives (a strict one would refuse the deviations). */
  async function run(quirks: Partial<Quirks>, measurands = 'Energy.Active.Import.Register') {
    cs = await TestCentralSystem.start({ strict: false });
    const sim = simulator(cs, {
      quirks,
      configuration: { MeterValuesSampledData: measurands, MeterValueSampleInterval: 60 },
    });
    cp = sim.cp;
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG');
    await advance(cp, sim.clock, 60_000);
    const boot = cs.messages('BootNotification')[0] as unknown as Record<string, unknown>;
    const meterValues = cs.messages('MeterValues')[0] as MeterValuesRequest;
    return { boot, meterValues };
  }

  afterEach(async () => {
    await cp?.close();
    cp = undefined;
    await cs.close();
  });

  it('without quirks everything validates, Temperature is in Celsius and Frequency has no unit', async () => {
    const { boot, meterValues } = await run({}, 'Energy.Active.Import.Register,Temperature,Frequency');
    assert.ok(validates('BootNotification', boot));
    assert.ok(validates('MeterValues', meterValues));
    const values = meterValues.meterValue[0]?.sampledValue ?? [];
    assert.equal(values.find((v) => v.measurand === 'Temperature')?.unit, 'Celsius');
    assert.equal(values.find((v) => v.measurand === 'Frequency')?.unit, undefined);
    assert.deepEqual([...(cs.handshakes[0]?.protocols ?? [])], ['ocpp1.6']);
  });

  it('longSerialNumber: a 35-character chargeBoxSerialNumber and nothing else wrong', async () => {
    const { boot } = await run({ longSerialNumber: true });
    assert.equal(String(boot.chargeBoxSerialNumber).length, 35);
    assert.equal(validates('BootNotification', boot), false);
    assert.ok(
      validates('BootNotification', {
        ...boot,
        chargeBoxSerialNumber: String(boot.chargeBoxSerialNumber).slice(0, 25),
      }),
    );
  });

  it('extraProperties: an unknown property in BootNotification and in MeterValues, and nothing else wrong', async () => {
    const { boot, meterValues } = await run({ extraProperties: true });
    assert.deepEqual(boot.customData, { vendorId: 'com.ampflow.sim' });
    assert.deepEqual((meterValues as unknown as Record<string, unknown>).customData, {
      vendorId: 'com.ampflow.sim',
    });
    const { customData: _b, ...cleanBoot } = boot;
    const { customData: _m, ...cleanMeter } = meterValues as unknown as Record<string, unknown>;
    assert.equal(validates('BootNotification', boot), false);
    assert.equal(validates('MeterValues', meterValues), false);
    assert.ok(validates('BootNotification', cleanBoot));
    assert.ok(validates('MeterValues', cleanMeter));
  });

  it('missingMeterTimestamp: MeterValues without timestamp, and nothing else wrong', async () => {
    const { meterValues } = await run({ missingMeterTimestamp: true });
    assert.equal(meterValues.meterValue[0]?.timestamp, undefined);
    assert.equal(validates('MeterValues', meterValues), false);
    const fixed = {
      ...meterValues,
      meterValue: meterValues.meterValue.map((mv) => ({ ...mv, timestamp: '2026-01-01T00:01:00Z' })),
    };
    assert.ok(validates('MeterValues', fixed));
    // The StopTransaction keeps its timestamps.
    await cp?.stopTransaction(1);
    await cp?.whenIdle();
    assert.ok(validates('StopTransaction', cs.messages('StopTransaction')[0]));
  });

  it('frequencyUnitHz: Frequency with unit Hz, which the 1.6 enum lacks', async () => {
    const { meterValues } = await run({ frequencyUnitHz: true }, 'Frequency,Energy.Active.Import.Register');
    const values = meterValues.meterValue[0]?.sampledValue ?? [];
    assert.equal(values.find((v) => v.measurand === 'Frequency')?.unit as string, 'Hz');
    assert.equal(validates('MeterValues', meterValues), false);
    const fixed = {
      ...meterValues,
      meterValue: [
        {
          ...meterValues.meterValue[0],
          sampledValue: values.map(({ unit, ...v }) =>
            v.measurand === 'Frequency' ? v : { ...v, unit },
          ) as SampledValue[],
        },
      ],
    };
    assert.ok(validates('MeterValues', fixed));
  });

  it('celciusSpelling: Temperature in "Celcius", the original schema spelling (errata 2.1), still schema-valid', async () => {
    const { meterValues } = await run({ celciusSpelling: true }, 'Temperature');
    assert.equal(meterValues.meterValue[0]?.sampledValue[0]?.unit, 'Celcius');
    assert.ok(validates('MeterValues', meterValues));
  });

  it('noSubProtocol: no Sec-WebSocket-Protocol header, and the simulator still validates both ways itself', async () => {
    cs = await TestCentralSystem.start();
    const sim = simulator(cs, { quirks: { noSubProtocol: true } });
    cp = sim.cp;
    assert.equal((await cp.connect())?.status, 'Accepted');
    assert.equal(cs.handshakes[0]?.headers['sec-websocket-protocol'], undefined);
    assert.equal(cs.handshakes[0]?.protocols.size, 0);
    assert.equal(cp.protocol, '');
    // A request that breaks the schema is refused, with the OCPP-J 1.6 error codes (errata 5.1, 5.2).
    const client = await cs.connected('CP1');
    await assert.rejects(
      client.call('ChangeConfiguration', { key: 'HeartbeatInterval' }),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'OccurenceConstraintViolation',
    );
    await assert.rejects(
      client.call('ChangeConfiguration', { key: 'x'.repeat(51), value: '1' }),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'FormationViolation',
    );
    // An answer from the central system that breaks the schema fails the call.
    cs.answers.Heartbeat = () => ({ currentTime: 'yesterday' });
    const failed = new Promise((resolve) => cp?.once('callError', resolve));
    await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'Heartbeat' });
    await failed;
  });

  it('keeps strict validation for everything a quirk does not touch: an invalid answer of ours becomes InternalError', async () => {
    cs = await TestCentralSystem.start();
    const sim = simulator(cs, {
      quirks: { longSerialNumber: true, extraProperties: true },
      dataTransfer: () => ({ status: 'Maybe' }) as never,
    });
    cp = sim.cp;
    cs.answers.BootNotification = () => ({
      status: 'Accepted',
      currentTime: new Date().toISOString(),
      interval: 60,
    });
    // The strict central system refuses the deviating BootNotification; the simulator sent it anyway.
    await assert.rejects(
      cp.connect(),
      (err: { rpcErrorCode?: string }) => typeof err.rpcErrorCode === 'string',
    );
    assert.equal(cs.violations.length, 1);
    assert.match(cs.violations[0] ?? '', /BootNotification/);
    await assert.rejects(
      cs.call('CP1', 'DataTransfer', { vendorId: 'x' }),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'InternalError',
    );
  });
});
