/**
 * Impossible readings are not evidence (issue 46, item 2), OCPP 2.0.1: two stations
 * (test/support/charger201.ts, plain `ws`, every frame checked against the OCA schemas) charge on
 * one 32 A line behind the central system and a load manager. One sends 1e308 A or `1e999` (a
 * number no double holds: JSON.parse reads it as Infinity; NaN has no JSON spelling at all): the
 * central system's schema check answers a CALLERROR (a value beyond 2^53 or not a number), so
 * nothing of it is a reading. 5e15 A (within 2^53) or 10 times its wiring: taken by the central
 * system, refused by the load manager, which names the station. Either way the other's limit and
 * its own stay. Before, 5e15 A and 160 A paused both.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import { feedConnectorStates } from '../../../lib/ocpp/connector-feed';
import { Charger201 } from '../../support/charger201';
import { RecordingLogger, useOcppHarness } from '../../support/ocpp';

const SITE = {
  circuits: [{ id: 'line', limitA: 32 }],
  connectors: [
    { chargePointId: 'ST-1', circuit: 'line', maxA: 16 },
    { chargePointId: 'ST-2', circuit: 'line', maxA: 16 },
  ],
  control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
};

/** A MeterValues payload of Current.Import per phase, the values as JSON text. */
function meterValuesText(values: readonly string[]): string {
  const sampled = values.map(
    (value, i) =>
      `{"value":${value},"measurand":"Current.Import","phase":"L${i + 1}","unitOfMeasure":{"unit":"A"}}`,
  );
  return `{"evseId":1,"meterValue":[{"timestamp":${JSON.stringify(new Date().toISOString())},"sampledValue":[${sampled.join(',')}]}]}`;
}

describe('OCPP 2.0.1: impossible readings of a station', () => {
  const harness = useOcppHarness();
  const stations: Charger201[] = [];
  afterEach(async () => {
    await Promise.all(stations.splice(0).map((station) => station.close()));
  });

  /** What the central system does with it: answers a CALLERROR (`refused`), or takes it and the load manager refuses it. */
  const cases: [
    string,
    'callError' | 'loadManager',
    (station: Charger201, tx: string) => Promise<unknown>,
  ][] = [
    [
      '1e308 A in a TransactionEvent',
      'callError',
      (s, tx) => s.meterValues(tx, { currentA: [1e308, 1e308, 1e308], energyWh: 2_000 }),
    ],
    [
      '1e999 (Infinity) in a MeterValues',
      'callError',
      (s) => s.callText('MeterValues', meterValuesText(['1e999', '1e999', '1e999'])),
    ],
    [
      '5e15 A in a TransactionEvent',
      'loadManager',
      (s, tx) => s.meterValues(tx, { currentA: [5e15, 16, 16], energyWh: 2_000 }),
    ],
    [
      '10 times its wiring (160 A) in a MeterValues',
      'loadManager',
      (s) => s.callText('MeterValues', meterValuesText(['160', '16', '16'])),
    ],
  ];
  for (const [name, where, send] of cases) {
    it(`ST-2 sending ${name} leaves both limits unchanged and is named`, async () => {
      const cs = await harness().centralSystem();
      const clock = new ManualClock(Date.now());
      const log = new RecordingLogger();
      const manager = new LoadManager({ site: SITE, clock, logger: log });
      const unfeed = feedConnectorStates(cs, manager, assert.fail);
      manager.start();
      const limits = new Map<string, number>();
      manager.on('setPoint', (s: SetPoint) => limits.set(s.chargePointId, s.limitA));
      try {
        const running: { station: Charger201; tx: string }[] = [];
        for (const identity of ['ST-1', 'ST-2']) {
          const station = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity });
          stations.push(station);
          await station.connect();
          await station.boot();
          await station.status(1, 'Occupied');
          const { transactionId } = await station.startTransaction(1, `TAG-${identity}`);
          running.push({ station, tx: transactionId });
        }
        for (let step = 0; step < 5; step++) {
          for (let t = 0; t < 5; t++) clock.advance(1000);
          for (const { station, tx } of running) {
            const a = limits.get(station.identity) ?? 0;
            await station.meterValues(tx, { currentA: [a, a, a], energyWh: 1_000 });
          }
        }
        assert.deepEqual([limits.get('ST-1'), limits.get('ST-2')], [16, 16]);
        const st2 = running[1];
        assert.ok(st2);
        if (where === 'callError') {
          // Beyond what a JSON number of the schema may be (2^53, or no double at all): the central
          // system answers a CALLERROR naming the field, and nothing of it is a reading.
          await assert.rejects(send(st2.station, st2.tx), /ConstraintViolation: .*sampledValue\[\d\]\.value/);
        } else await send(st2.station, st2.tx);
        for (let t = 0; t < 60; t++) clock.advance(1000);
        assert.deepEqual([limits.get('ST-1'), limits.get('ST-2')], [16, 16], 'nobody paused');
        const summary = manager.summary();
        assert.equal(summary.circuits[0]?.overloaded, false);
        assert.deepEqual(st2.station.violations, []);
        if (where === 'callError') return;
        assert.match(summary.connectors[1]?.refusedReading ?? '', /^charger ST-2\/1 reads/);
        assert.ok(summary.problems.some((p) => p.startsWith('charger ST-2/1 reads')));
        assert.equal(log.matching(/reading refused/, 'warn').length, 1);
      } finally {
        unfeed();
        manager.stop();
      }
    });
  }
});
