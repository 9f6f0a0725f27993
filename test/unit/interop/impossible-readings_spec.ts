/**
 * Impossible readings are not evidence (issue 46, item 2), over real WebSockets: OCPP 1.6 chargers
 * (bare ocpp-rpc clients, test/support/charge-point.ts) send MeterValues to the central system,
 * which feeds a load manager (lib/ocpp/connector-feed.ts). One charger's `Current.Import` of
 * 1e308 A, `NaN` or 10 times its wiring leaves the other's limit and its own unchanged, and the
 * load manager names it. Before, 1e308 A paused the whole zone.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { feedConnectorStates } from '../../../lib/ocpp/connector-feed';
import { BOOT, RecordingLogger } from '../../support/ocpp';
import { useInterop } from './support';

const SITE = {
  circuits: [{ id: 'line', limitA: 32 }],
  connectors: [
    { chargePointId: 'CP-1', circuit: 'line', maxA: 16 },
    { chargePointId: 'CP-2', circuit: 'line', maxA: 16 },
  ],
  control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
};

function currents(transactionId: number, values: readonly string[]) {
  return {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: new Date().toISOString(),
        sampledValue: values.map((value, i) => ({
          value,
          measurand: 'Current.Import',
          phase: `L${i + 1}`,
          unit: 'A',
        })),
      },
    ],
  };
}

describe('interop: impossible readings of an OCPP 1.6 charger', () => {
  const interop = useInterop();

  async function carPark(cs: CentralSystem) {
    const clock = new ManualClock(Date.now());
    const log = new RecordingLogger();
    const manager = new LoadManager({ site: SITE, clock, logger: log });
    const unfeed = feedConnectorStates(cs, manager, assert.fail);
    manager.start();
    const limits = new Map<string, number>();
    manager.on('setPoint', (s: SetPoint) => limits.set(s.chargePointId, s.limitA));
    const chargers = new Map<
      string,
      { client: ReturnType<ReturnType<typeof interop.harness>['charger']>; tx: number }
    >();
    for (const id of ['CP-1', 'CP-2']) {
      const client = interop.harness().charger(cs, id);
      await client.connect();
      await client.call('BootNotification', BOOT);
      const timestamp = new Date().toISOString();
      await client.call('StatusNotification', {
        connectorId: 1,
        errorCode: 'NoError',
        status: 'Preparing',
        timestamp,
      });
      const tx = (await client.call('StartTransaction', {
        connectorId: 1,
        idTag: `TAG-${id}`,
        meterStart: 0,
        timestamp,
      })) as {
        transactionId: number;
      };
      await client.call('StatusNotification', {
        connectorId: 1,
        errorCode: 'NoError',
        status: 'Charging',
        timestamp,
      });
      chargers.set(id, { client, tx: tx.transactionId });
    }
    const run = (ms: number) => {
      for (let t = 0; t < ms; t += 1000) clock.advance(1000);
    };
    /** Both cars draw what they are given, as the chargers measure it. */
    const obey = async () => {
      for (const [id, { client, tx }] of chargers) {
        const a = String(limits.get(id) ?? 0);
        await client.call('MeterValues', currents(tx, [a, a, a]));
      }
    };
    const stop = () => {
      unfeed();
      manager.stop();
    };
    return { manager, log, limits, chargers, run, obey, stop };
  }

  for (const [name, value] of [
    ['1e308 A', '1e308'],
    ['NaN', 'NaN'],
    ['10 times its wiring (160 A)', '160'],
  ] as const) {
    it(`CP-2 sending ${name} leaves both limits unchanged and is named`, async () => {
      const cs = await interop.harness().centralSystem();
      const park = await carPark(cs);
      try {
        for (let i = 0; i < 5; i++) {
          park.run(5_000);
          await park.obey();
        }
        assert.deepEqual([park.limits.get('CP-1'), park.limits.get('CP-2')], [16, 16]);
        const cp2 = park.chargers.get('CP-2');
        // Once, then again a minute later (each reading alone, and beside a plausible phase).
        for (const values of [
          [value, value, value],
          ['16', value, '16'],
        ]) {
          await cp2?.client.call('MeterValues', currents(cp2.tx, values));
          park.run(60_000);
          assert.deepEqual([park.limits.get('CP-1'), park.limits.get('CP-2')], [16, 16], 'nobody paused');
        }
        const summary = park.manager.summary();
        assert.equal(summary.circuits[0]?.overloaded, false);
        assert.equal(summary.connectors[1]?.overdrawing, undefined);
        if (value === 'NaN') {
          // Not a decimal number (OCPP 1.6 §7.43): the central system skips it and names the charger.
          assert.equal(
            interop
              .harness()
              .log.matching(
                /charge point CP-2 meter values: Current.Import L2: value 'NaN' is not a decimal number; skipped/,
                'warn',
              ).length,
            1,
          );
        } else {
          assert.match(summary.connectors[1]?.refusedReading ?? '', /^charger CP-2\/1 reads/);
          assert.ok(summary.problems.some((p) => p.startsWith('charger CP-2/1 reads')));
          assert.match(summary.connectors[1]?.reason ?? '', /reading refused: reads/);
          assert.equal(park.log.matching(/reading refused/, 'warn').length, 1, 'logged once this session');
        }
      } finally {
        park.stop();
      }
    });
  }
});
