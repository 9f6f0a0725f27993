import assert from 'node:assert/strict';
import type { ChangeConfigurationRequest } from '../../../lib/ocpp/messages';
import { waitFor } from '../../support/events';
import { advance, type CommandEvent, nextMessage } from '../interop/support';
import { NO_OFFLINE_FALLBACK, type RigOptions, setPoint, settled, useProfileRig } from './support';

/**
 * The evidence the load manager needs is asked for (issue #27): a charger that gets set-points is
 * asked, once per boot, to sample Current.Import (per phase) and Current.Offered besides its own
 * measurands, every 10 s; what came of it is on its connectors (`ConnectorState.sampling`).
 */

const ENERGY_ONLY = { MeterValuesSampledData: 'Energy.Active.Import.Register', MeterValueSampleInterval: 60 };

function changes(commands: readonly CommandEvent[], from = 0): string[] {
  return commands
    .slice(from)
    .filter((event) => event.action === 'ChangeConfiguration')
    .map((event) => {
      const { key, value } = event.request as ChangeConfigurationRequest;
      return `${key}=${value}`;
    });
}

describe('Profiles: asking chargers for per-phase current samples', () => {
  const { rig } = useProfileRig();
  const sampling = (options: RigOptions = {}) =>
    rig({
      ...options,
      sim: { ...options.sim, configuration: { ...ENERGY_ONLY, ...options.sim?.configuration } },
      manager: { ...NO_OFFLINE_FALLBACK, configureSampling: true, ...options.manager },
    });

  it('sets both keys once, keeps it with the charger, and asks nothing after a reconnect without a boot', async () => {
    const r = await sampling({ sim: { rebootDelayS: 5 } });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), [
      'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import,Current.Offered',
      'MeterValueSampleInterval=10',
    ]);
    assert.deepEqual(
      { ...r.cs.connectorOf('CP1', 1)?.sampling, since: undefined },
      { perPhaseCurrents: true, intervalS: 10, since: undefined },
    );
    assert.equal(
      (r.cs.storedData('CP1', 'sampling') as { perPhaseCurrents?: boolean })?.perPhaseCurrents,
      true,
    );

    let before = r.commands.length;
    const gone = waitFor(r.cs, 'disconnect');
    await r.cp.disconnect();
    await gone;
    await r.cp.connect();
    r.clock.advance(2000); // the reconnect settles: the limit goes again, the samples are not asked for
    await settled(r);
    assert.deepEqual(
      r.commands
        .slice(before)
        .map((event) => event.action)
        .filter((action) => action === 'GetConfiguration' || action === 'ChangeConfiguration'),
      [],
    );

    // A boot: read again; the charger kept the keys, so nothing is changed.
    before = r.commands.length;
    const booted = nextMessage(r.cs, 'BootNotification');
    const rebooting = waitFor(r.cp as unknown as NodeJS.EventEmitter, 'rebooting');
    await r.cs.call('CP1', 'Reset', { type: 'Soft' });
    await rebooting;
    await advance(r.cp, r.clock, 5000);
    await booted;
    r.clock.advance(0);
    await settled(r);
    const read = r.commands
      .slice(before)
      .filter((event) => event.action === 'GetConfiguration')
      .map((event) => (event.request as { key?: string[] }).key ?? []);
    assert.ok(
      read.some((keys) => keys.includes('MeterValuesSampledData')),
      `read again after the boot: ${JSON.stringify(read)}`,
    );
    assert.deepEqual(changes(r.commands, before), [], 'it kept them');
  });

  it('keeps an interval the charger has shorter already, and adds only what its list lacks', async () => {
    const r = await sampling({
      sim: {
        configuration: {
          MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import',
          MeterValueSampleInterval: 5,
        },
      },
    });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), [
      'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import,Current.Offered',
    ]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.sampling?.intervalS, 5);
  });

  it('asks an EVlink for the phase forms of Current.Import (it sends it without a phase otherwise, issue 36)', async () => {
    const r = await sampling({
      sim: {
        vendorBehaviour: 'schneider-evlink-r6-r7',
        configuration: {
          MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import',
          MeterValueSampleInterval: 10,
        },
      },
      manager: { strategy: 'schneider-evlink-r6-r7' },
    });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), [
      'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import,Current.Import.L1,Current.Import.L2,Current.Import.L3,Current.Offered',
    ]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.sampling?.perPhaseCurrents, true);
  });

  it('says perPhaseCurrents false when the charger refuses the measurands, also without Current.Offered', async () => {
    const r = await sampling({
      sim: {
        configuration: { MeterValuesSampledData: { value: 'Energy.Active.Import.Register', readonly: true } },
      },
    });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), [
      'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import,Current.Offered',
      'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import',
      'MeterValueSampleInterval=10',
    ]);
    const state = r.cs.connectorOf('CP1', 1)?.sampling;
    assert.equal(state?.perPhaseCurrents, false);
    assert.match(
      state?.why ?? '',
      /refused MeterValuesSampledData=Energy.Active.Import.Register,Current.Import \(Rejected\)/,
    );
  });

  it('leaves a key the operator backend keeps alone and says what the charger has', async () => {
    const r = await sampling({
      manager: { backendKeepsKey: (_chargePointId, key) => key === 'MeterValuesSampledData' },
    });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), ['MeterValueSampleInterval=10']);
    const state = r.cs.connectorOf('CP1', 1)?.sampling;
    assert.equal(state?.perPhaseCurrents, false);
    assert.match(state?.why ?? '', /kept by the operator's backend and has no Current.Import/);
  });

  it('asks nothing when switched off (configureSampling false)', async () => {
    const r = await sampling({ manager: { configureSampling: false } });
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.deepEqual(changes(r.commands), []);
    assert.equal(r.cs.connectorOf('CP1', 1)?.sampling, undefined);
  });
});
