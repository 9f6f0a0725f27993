/**
 * Impossible readings are not evidence (issue 46, item 2), from a Modbus meter over real Modbus TCP
 * (the project's simulator serving an Eastron SDM630, read by the meter reader): a circuit meter
 * that reads 10 times its breaker, 3e38 A or NaN is not believed. Its reading is no evidence: the
 * circuit runs on the fail-safe of a blind meter and names the meter (the rule is
 * evidence/meter-plausibility.ts `impossible`; its count evidence/circuit-view.ts).
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { PerPhase, SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import { SHIPPED_PROFILES } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { RecordingLogger } from '../../support/ocpp';
import { useSimHarness } from './harness';

const SDM630 = SHIPPED_PROFILES.find((p) => p.id === 'eastron-sdm630') as DeviceProfile;

function floatWords(value: number): number[] {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatBE(value);
  return [bytes.readUInt16BE(0), bytes.readUInt16BE(2)];
}

describe('Modbus meter: impossible readings of a circuit meter', () => {
  const harness = useSimHarness();

  /**
   * What the fail-safe makes of it: NaN decodes as unknown (lib/modbus/decode.ts), so the meter's
   * last values age and it goes stale: its other loads at the fallback, the chargers keep their
   * limits. A finite value beyond 3 times the breaker is `impossible` (meter-plausibility.ts): the
   * meter is blind as any lying one, its other loads at what was learned or configured
   * (evidence/circuit-view.ts); before issue 46 the whole limit was counted and the chargers paused.
   */
  const cases: [string, 'stale' | 'impossible', (meter: SimulatedMeter) => void][] = [
    [
      '10 times its breaker (630 A)',
      'impossible',
      (m) => m.set({ currentA: [630, 630, 630], powerW: [144_900, 144_900, 144_900], totalPowerW: 434_700 }),
    ],
    [
      '3e38 A',
      'impossible',
      (m) => m.set({ currentA: [3e38, 3e38, 3e38], powerW: [3e38, 3e38, 3e38], totalPowerW: 3e38 }),
    ],
    [
      'NaN',
      'stale',
      (m) => {
        for (const r of SDM630.registers.filter((r) => /^(current|power)/.test(r.measurand)))
          m.setRaw(r.address, floatWords(Number.NaN));
      },
    ],
  ];
  for (const [name, failSafe, lie] of cases) {
    it(`a meter that reads ${name}: its circuit on the fail-safe of a blind meter, the meter named`, async () => {
      const h = harness();
      const server = await h.server();
      const simulated = new SimulatedMeter(SDM630, {
        values: { currentA: [5, 5, 5], powerW: [1150, 1150, 1150], totalPowerW: 3450 },
      });
      server.addUnit(1, simulated);
      const bus = h.bus({ name: 'b', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
      const meter = h.meter({ name: 'grid', bus, profile: SDM630, unitId: 1, pollIntervalMs: 0 });
      const clock = new ManualClock(Date.now());
      const log = new RecordingLogger();
      const manager = new LoadManager({
        site: {
          circuits: [
            {
              id: 'grid',
              limitA: 63,
              meter: { source: 'grid', location: 'otherLoadsOnly', staleAfterMs: 10_000 },
              fallback: { otherLoadA: 10 },
            },
          ],
          connectors: [
            { chargePointId: 'CP-1', circuit: 'grid', maxA: 16 },
            { chargePointId: 'CP-2', circuit: 'grid', maxA: 16 },
          ],
          control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
        },
        clock,
        logger: log,
      });
      const limits = new Map<string, number>();
      manager.on('setPoint', (s: SetPoint) => limits.set(s.chargePointId, s.limitA));
      manager.start();
      const at = () => new Date(clock.now()).toISOString();
      // Each charger's transaction, started once (a charger reports its start time as it was).
      const startedAt = at();
      for (const id of ['CP-1', 'CP-2']) {
        manager.connectorState({
          chargePointId: id,
          connectorId: 1,
          online: true,
          status: 'Charging',
          transaction: { transactionId: id === 'CP-1' ? 1 : 2, idTag: id, startedAt, meterStartWh: 0 },
        });
      }
      /** One poll of the meter over Modbus TCP, its reading to the load manager, and a second of time. */
      const step = async () => {
        const { reading } = await meter.readNow();
        manager.reading({ ...reading, timestamp: at() });
        for (const id of ['CP-1', 'CP-2']) {
          const a = limits.get(id) ?? 0;
          manager.connectorState({
            chargePointId: id,
            connectorId: 1,
            online: true,
            status: 'Charging',
            transaction: {
              transactionId: id === 'CP-1' ? 1 : 2,
              idTag: id,
              startedAt,
              meterStartWh: 0,
            },
            currentA: [a, a, a] as PerPhase,
            // Stamped, as the central system stamps a MeterValues: the same currents a second
            // later are a new reading, not the old one again.
            measuredAt: at(),
            lastSeen: at(),
          });
        }
        clock.advance(1000);
      };
      try {
        for (let i = 0; i < 20; i++) await step();
        assert.deepEqual([limits.get('CP-1'), limits.get('CP-2')], [16, 16]);
        assert.equal(manager.summary().circuits[0]?.meter?.implausible, undefined);
        lie(simulated);
        for (let i = 0; i < 20; i++) await step();
        const circuit = manager.summary().circuits[0];
        assert.equal(circuit?.overloaded, false);
        assert.ok(circuit?.meter?.stale, 'the meter is blind');
        if (failSafe === 'stale') {
          assert.match(circuit?.fallback ?? '', /^fallback: meter "grid" of grid is stale/);
          assert.deepEqual(circuit?.otherA, [10, 10, 10], 'the other loads at the fallback, not the reading');
          assert.deepEqual([limits.get('CP-1'), limits.get('CP-2')], [16, 16], 'nobody paused');
        } else {
          assert.match(
            circuit?.meter?.implausible ?? '',
            /^meter "grid" of grid reads .* A on L1, more than 3 times the 63 A limit/,
          );
          // Blind as any lying meter (issue 46): the fallback, not the whole limit; nobody paused.
          assert.deepEqual(circuit?.otherA, [10, 10, 10], 'the other loads at the fallback, not the reading');
          assert.deepEqual([limits.get('CP-1'), limits.get('CP-2')], [16, 16], 'nobody paused');
        }
      } finally {
        manager.stop();
      }
    });
  }
});
