import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { ChargePointMessage } from '../../../lib/contracts';
import type { ChangeConfigurationRequest } from '../../../lib/ocpp/messages';
import { ChargingProfileManager } from '../../../lib/profiles';
import { SAMPLE_RATE_GAP_MS } from '../../../lib/profiles/fast-sampling';
import { Charger201 } from '../../support/charger201';
import { until } from '../../support/events';
import { advance, type CommandEvent } from '../interop/support';
import {
  NO_OFFLINE_FALLBACK,
  type ProfileRig,
  type RigOptions,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

/**
 * Readings as often as the control needs them (issue #36): while a connector's limit moves, the
 * charger is asked for MeterValueSampleInterval 5 s (the load manager settles a raise, and gives
 * what a decrease frees to others, by the charger's own reading), back to 10 s once every limit
 * has been steady for 60 s; at most one change per charger per 30 s; a refusal is not asked again;
 * what was granted is on the connectors (`ConnectorState.sampling`). Against the package's
 * simulator over real WebSockets (sharing the manager's ManualClock), and a 2.0.1 charger.
 */

/** The charger measures what the load manager needs already: the boot's asking changes nothing. */
const MEASURES = {
  MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import,Current.Offered',
  MeterValueSampleInterval: 10,
};

function changes(commands: readonly CommandEvent[], from = 0): string[] {
  return commands
    .slice(from)
    .filter((event) => event.action === 'ChangeConfiguration')
    .map((event) => {
      const { key, value } = event.request as ChangeConfigurationRequest;
      return `${key}=${value}`;
    });
}

function granted(r: ProfileRig) {
  const { intervalS, askedS, why } = r.cs.connectorOf('CP1', 1)?.sampling ?? {};
  return { intervalS, askedS, why };
}

describe('Profiles: readings every 5 s while a limit moves', () => {
  const { rig, interop } = useProfileRig();
  const fastRig = async (options: RigOptions = {}) => {
    const r = await rig({
      ...options,
      sim: { ...options.sim, configuration: { ...MEASURES, ...options.sim?.configuration } },
      manager: { ...NO_OFFLINE_FALLBACK, configureSampling: true, increaseIntervalMs: 0, ...options.manager },
    });
    await startCharging(r.cp);
    await r.manager.apply(setPoint(6));
    await settled(r);
    return r;
  };

  it('asks for 5 s after a raise, and for 10 s again once the limit has been steady for 60 s', async () => {
    const r = await fastRig();
    assert.deepEqual(changes(r.commands), [], 'the first limit is no move; the charger measures already');
    assert.deepEqual(granted(r), { intervalS: 10, askedS: undefined, why: undefined });

    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5']);
    assert.deepEqual(granted(r), { intervalS: 5, askedS: 5, why: undefined }, 'granted 5 s (asked 5 s)');

    await advance(r.cp, r.clock, 59_000, 1000);
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5'], 'still moving within 60 s');
    await advance(r.cp, r.clock, 1000);
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5', 'MeterValueSampleInterval=10']);
    assert.deepEqual(granted(r), { intervalS: 10, askedS: 10, why: undefined });
  });

  it('changes a charger’s interval at most once per 30 s, and never for a connector without a session', async () => {
    const r = await fastRig({ sim: { connectors: 2 } });
    // Connector 2 has no car: its limit moving asks for nothing.
    await r.manager.apply(setPoint(6, { connectorId: 2 }));
    await r.manager.apply(setPoint(16, { connectorId: 2 }));
    await settled(r);
    assert.deepEqual(changes(r.commands), []);

    // A decrease of connector 1 is a move too; steady 60 s later the interval goes back to 10 s.
    await r.manager.apply(setPoint(16));
    await settled(r);
    await r.manager.apply(setPoint(8));
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5']);
    await advance(r.cp, r.clock, 60_000, 1000);
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5', 'MeterValueSampleInterval=10']);

    // Moving again at once: the fast interval waits for the 30 s since the last change.
    const before = r.commands.length;
    await r.manager.apply(setPoint(12));
    await settled(r);
    assert.deepEqual(changes(r.commands, before), [], 'within 30 s of the last change');
    await advance(r.cp, r.clock, SAMPLE_RATE_GAP_MS - 1000, 1000);
    await settled(r);
    assert.deepEqual(changes(r.commands, before), []);
    await advance(r.cp, r.clock, 1000);
    await settled(r);
    assert.deepEqual(changes(r.commands, before), ['MeterValueSampleInterval=5']);
  });

  it('does not ask a charger again that refused the fast interval, and says what it reports at', async () => {
    const r = await fastRig({
      sim: { configuration: { MeterValueSampleInterval: { value: '10', readonly: true } } },
    });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5']);
    assert.deepEqual(granted(r), {
      intervalS: 10,
      askedS: 5,
      why: 'it refused MeterValueSampleInterval=5 (Rejected)',
    });
    assert.equal(
      (r.cs.storedData('CP1', 'fast-sampling') as { refused?: string } | undefined)?.refused,
      'Rejected',
      'kept with the charger: a restart of ampflow does not ask again in this boot',
    );
    for (const limitA of [8, 20, 10]) {
      await advance(r.cp, r.clock, 40_000, 1000);
      await r.manager.apply(setPoint(limitA));
      await settled(r);
    }
    await advance(r.cp, r.clock, 120_000, 5000);
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5'], 'asked once');

    // ampflow restarts (a new manager, the same central system and charger boot): still not asked.
    r.manager.close();
    const again = new ChargingProfileManager(r.cs, {
      ...NO_OFFLINE_FALLBACK,
      clock: r.clock,
      log: r.log,
      configureSampling: true,
      increaseIntervalMs: 0,
    });
    interop.track({ close: async () => again.close() });
    await again.apply(setPoint(6));
    await settled({ cp: r.cp, manager: again });
    await again.apply(setPoint(16));
    await settled({ cp: r.cp, manager: again });
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5'], 'not asked after the restart');
    assert.equal(granted(r).why, 'it refused MeterValueSampleInterval=5 (Rejected)');
  });

  it('keeps 5 s past the 60 s while a decrease is not shown followed, and returns once a reading shows it', async () => {
    const r = await rig({
      sim: { configuration: MEASURES },
      manager: { ...NO_OFFLINE_FALLBACK, configureSampling: true, increaseIntervalMs: 0 },
    });
    // A car that takes 90 s to follow its offered current.
    await startCharging(r.cp, 1, { maxCurrentA: 32, followDelayMs: 90_000 });
    await r.manager.apply(setPoint(16));
    await settled(r);
    await advance(r.cp, r.clock, 100_000, 1000);
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.currentA?.[0], 16, 'the car draws its 16 A');
    assert.deepEqual(changes(r.commands), []);

    await r.manager.apply(setPoint(8));
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5']);
    await advance(r.cp, r.clock, 85_000, 1000);
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.currentA?.[0], 16, 'not followed yet');
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5'], 'the decrease is still pending');
    await advance(r.cp, r.clock, 15_000, 1000);
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.currentA?.[0], 8, 'followed');
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=5', 'MeterValueSampleInterval=10']);
  });

  it('the simulated charger reports every 5 s after a raise, every 10 s before', async () => {
    const r = await fastRig();
    const sampled: number[] = [];
    // The central system's message is the reading it parsed; its timestamp is the sample's.
    r.cs.on('message', (message: ChargePointMessage) => {
      const reading = message.payload as { timestamp?: string; currentA?: number[] };
      if (message.action === 'MeterValues' && reading.currentA && reading.timestamp)
        sampled.push(Date.parse(reading.timestamp));
    });
    await advance(r.cp, r.clock, 40_000, 1000);
    await settled(r);
    const before = sampled.length;
    assert.ok(before >= 3 && before <= 5, `every 10 s before: ${before} in 40 s`);

    await r.manager.apply(setPoint(16));
    await settled(r);
    // Its next reading comes on its old schedule (the simulator re-reads the key then), then every 5 s.
    await advance(r.cp, r.clock, 10_000, 1000);
    const from = sampled.length;
    await advance(r.cp, r.clock, 40_000, 1000);
    await settled(r);
    const gaps = sampled
      .slice(from - 1)
      .map((at, i, all) => (i === 0 ? undefined : at - (all[i - 1] ?? 0)))
      .filter((gap) => gap !== undefined);
    assert.ok(gaps.length >= 7, `readings every 5 s after the raise: ${JSON.stringify(gaps)}`);
    assert.ok(
      gaps.every((gap) => gap === 5000),
      `readings every 5 s after the raise: ${JSON.stringify(gaps)}`,
    );
  });

  it('asks a 2.0.1 station for SampledDataCtrlr.TxUpdatedInterval 5 s with SetVariables', async () => {
    const cs = await interop.harness().centralSystem();
    const clock = new ManualClock(Date.now());
    const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity: 'CS201' });
    interop.track(charger);
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    await charger.status(1, 'Occupied');
    const { transactionId } = await charger.startTransaction(1, 'TAG-1');
    await until(() => cs.connectorOf('CS201', 1)?.transaction !== undefined, [[cs, 'connector']], 5000);
    assert.ok(transactionId);
    const manager = new ChargingProfileManager(cs, {
      clock,
      log: interop.harness().log,
      offlineFallbackA: null,
      increaseIntervalMs: 0,
      verifySchedule: false,
    });
    interop.track({ close: async () => manager.close() });
    const intervals = () =>
      charger.received
        .filter((call) => call.action === 'SetVariables')
        .flatMap(
          (call) =>
            (
              call.payload as {
                setVariableData: {
                  component: { name: string };
                  variable: { name: string };
                  attributeValue: string;
                }[];
              }
            ).setVariableData,
        )
        .filter((item) => item.variable.name === 'TxUpdatedInterval')
        .map((item) => `${item.component.name}.${item.variable.name}=${item.attributeValue}`);

    await manager.apply({ ...setPoint(6), chargePointId: 'CS201' });
    await until(() => cs.connectorOf('CS201', 1)?.sampling !== undefined, [[cs, 'connector']], 5000);
    assert.deepEqual(intervals(), ['SampledDataCtrlr.TxUpdatedInterval=10'], 'the boot’s asking');

    await manager.apply({ ...setPoint(16), chargePointId: 'CS201' });
    await until(() => cs.connectorOf('CS201', 1)?.sampling?.askedS === 5, [[cs, 'connector']], 5000);
    assert.deepEqual(intervals(), [
      'SampledDataCtrlr.TxUpdatedInterval=10',
      'SampledDataCtrlr.TxUpdatedInterval=5',
    ]);
    assert.equal(charger.variables.get('SampledDataCtrlr.TxUpdatedInterval')?.value, '5');
    assert.equal(cs.connectorOf('CS201', 1)?.sampling?.intervalS, 5);
    assert.deepEqual(charger.violations, []);
  });
});
