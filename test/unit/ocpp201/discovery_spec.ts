import assert from 'node:assert/strict';
import type { SetPoint } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { GetConfigurationResponse } from '../../../lib/ocpp/messages';
import { ChargingProfileManager, type ProfileManagerOptions } from '../../../lib/profiles';
import {
  CAPABILITY_KEYS,
  type ChargerCapabilities,
  parseCapabilities,
} from '../../../lib/profiles/capabilities';
import type { SimulatedChargePointOptions } from '../../../sim/charge-point';
import { Charger201 } from '../../support/charger201';
import type { DeviceVariable } from '../../support/charger201-device-model';
import { until, waitFor } from '../../support/events';
import { useInterop } from '../interop/support';

/**
 * The charging-profile manager and an OCPP 2.0.1 charger, through the central system's translation
 * of GetConfiguration and ChangeConfiguration to the device model: it learns what it learns of the
 * same charger speaking 1.6 (feature profiles, phase rotation, connector count, readonly flags),
 * configures the charger's sampling with SetVariables, hears a refusal as 1.6's Rejected, and takes
 * a controller the charger does not have (UnknownComponent) as a feature it lacks. Against the
 * independent test charger (charger201.ts: ws and typed-ocpp) and the simulator speaking 2.0.1.
 */

type Keys = NonNullable<GetConfigurationResponse['configurationKey']>;

const setPoint = (chargePointId: string, limitA = 16): SetPoint => ({
  chargePointId,
  connectorId: 1,
  limitA,
  phases: 3,
  reason: 'test',
});

/** Capabilities without the time they were read. */
const learned = (capabilities: ChargerCapabilities | undefined) => ({
  ...capabilities,
  learnedAt: undefined,
});

describe('OCPP 2.0.1: the charging-profile manager through the device model', () => {
  const interop = useInterop();

  /** A booted Charger201 with `evses` EVSEs, its device model changed by `model` before it connects. */
  async function charger201(
    cs: CentralSystem,
    options: {
      identity?: string;
      evses?: number;
      model?: (variables: Map<string, DeviceVariable>) => void;
    } = {},
  ): Promise<Charger201> {
    const { identity = 'CS201', evses = 1 } = options;
    const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity, evses });
    options.model?.(charger.variables);
    interop.track(charger);
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    for (let id = 1; id <= evses; id++) await charger.status(id, 'Available');
    return charger;
  }

  function manager(cs: CentralSystem, options: ProfileManagerOptions): ChargingProfileManager {
    const made = new ChargingProfileManager(cs, { log: interop.harness().log, ...options });
    interop.track({ close: async () => made.close() });
    return made;
  }

  async function capabilityKeys(cs: CentralSystem, chargePointId: string) {
    const response = await cs.call(chargePointId, 'GetConfiguration', { key: [...CAPABILITY_KEYS] });
    const keys: Keys = response.configurationKey ?? [];
    return {
      keys,
      capabilities: parseCapabilities(keys, { unknownKeys: response.unknownKey ?? [] }),
      readonly: Object.fromEntries(keys.map(({ key, readonly }) => [key, readonly])),
    };
  }

  /** A simulator connected to `cs`, speaking 1.6 unless `options` say 2.0.1. */
  async function simulator(
    cs: CentralSystem,
    identity: string,
    options: Partial<SimulatedChargePointOptions>,
  ) {
    const { cp } = interop.simulator(cs, identity, options);
    await cp.connect();
    await cp.whenIdle();
    return cp;
  }

  /** Removes every variable of a component: the charger answers UnknownComponent for it. */
  const without =
    (...components: string[]) =>
    (variables: Map<string, DeviceVariable>) => {
      for (const key of [...variables.keys()])
        if (components.some((component) => key.startsWith(`${component}.`))) variables.delete(key);
    };

  it('learns of a 2.0.1 charger what it learns of the same charger speaking 1.6', async () => {
    const cs = await interop.harness().centralSystem();
    // Two EVSEs, the station wired STR to the grid, EVSE 2 on one phase, no local list.
    const charger = await charger201(cs, {
      evses: 2,
      model: (variables) => {
        without('LocalAuthListCtrlr')(variables);
        variables.set('ChargingStation.PhaseRotation', { value: 'STR' });
        variables.set('EVSE[2].PhaseRotation', { value: 'Rxx' });
      },
    });
    await simulator(cs, 'CP16', {
      connectors: [{ phases: 3 }, { phases: 1 }],
      configuration: {
        SupportedFeatureProfiles: 'Core,FirmwareManagement,Reservation,SmartCharging,RemoteTrigger',
        ChargeProfileMaxStackLevel: 9,
        ConnectorPhaseRotation: '0.STR,1.STR,2.NotApplicable',
      },
    });
    const as16 = await capabilityKeys(cs, 'CP16');
    const as201 = await capabilityKeys(cs, 'CS201');
    assert.deepEqual(as201.capabilities, as16.capabilities);
    assert.deepEqual(as201.capabilities.featureProfiles, [
      'Core',
      'FirmwareManagement',
      'Reservation',
      'SmartCharging',
      'RemoteTrigger',
    ]);
    assert.deepEqual(as201.capabilities.phaseRotation, { 0: 'STR', 1: 'STR', 2: 'NotApplicable' });
    assert.equal(as201.capabilities.numberOfConnectors, 2);
    assert.deepEqual(as201.capabilities.unknownKeys, []);
    // Read-only as in 1.6, but ConnectorPhaseRotation: made of several 2.0.1 variables, only read.
    assert.deepEqual(as201.readonly, { ...as16.readonly, ConnectorPhaseRotation: true });
    assert.equal(as16.readonly.ConnectorPhaseRotation, false);

    // The manager learns the same before its first limit goes.
    const profiles = manager(cs, { configureSampling: false, offlineFallbackA: null });
    const learning = waitFor<[{ chargePointId: string; capabilities: ChargerCapabilities }]>(
      profiles,
      'learned',
      (event) => event.chargePointId === 'CS201',
    );
    await profiles.apply(setPoint('CS201'));
    const [event] = await learning;
    assert.deepEqual(learned(event.capabilities), learned(as16.capabilities));
    assert.deepEqual(charger.violations, []);
  });

  it('takes a controller the charger does not have as a feature it lacks: no SmartCharging, no profile', async () => {
    const cs = await interop.harness().centralSystem();
    const charger = await charger201(cs, { model: without('SmartChargingCtrlr', 'ReservationCtrlr') });
    const { capabilities, keys } = await capabilityKeys(cs, 'CS201');
    assert.deepEqual(capabilities.featureProfiles, [
      'Core',
      'FirmwareManagement',
      'LocalAuthListManagement',
      'RemoteTrigger',
    ]);
    assert.equal(capabilities.smartCharging, false);
    // Its smart-charging keys are unknown, as a 1.6 charger without the profile has none.
    assert.deepEqual(
      keys.map(({ key }) => key),
      ['SupportedFeatureProfiles', 'ConnectorPhaseRotation', 'NumberOfConnectors'],
    );
    assert.deepEqual(capabilities.unknownKeys, [
      'ChargingScheduleAllowedChargingRateUnit',
      'ChargeProfileMaxStackLevel',
      'ChargingScheduleMaxPeriods',
      'MaxChargingProfilesInstalled',
      'ConnectorSwitch3to1PhaseSupported',
    ]);

    const profiles = manager(cs, { configureSampling: false });
    await profiles.apply(setPoint('CS201'));
    await profiles.whenSettled('CS201');
    assert.equal(profiles.charger('CS201')?.capabilities?.smartCharging, false);
    assert.deepEqual(
      charger.received.filter((call) => call.action === 'SetChargingProfile'),
      [],
      'no profile to a charger without smart charging',
    );
    // Switched off (Enabled false) is no SmartCharging either.
    const other = await charger201(cs, {
      identity: 'CS201-OFF',
      model: (variables) => variables.set('SmartChargingCtrlr.Enabled', { value: 'false' }),
    });
    assert.equal((await capabilityKeys(cs, 'CS201-OFF')).capabilities.smartCharging, false);
    assert.deepEqual([...charger.violations, ...other.violations], []);
  });

  it('configures the charger’s sampling with SetVariables: 2.0.1 measurand names, interval in seconds', async () => {
    const cs = await interop.harness().centralSystem();
    const charger = await charger201(cs);
    manager(cs, { configureSampling: true, offlineFallbackA: null }).apply(setPoint('CS201'));
    await until(() => cs.connectorOf('CS201', 1)?.sampling !== undefined, [[cs, 'connector']], 5000);
    assert.deepEqual(
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
        .map((item) => `${item.component.name}.${item.variable.name}=${item.attributeValue}`),
      [
        'SampledDataCtrlr.TxUpdatedMeasurands=Energy.Active.Import.Register,Current.Import,Current.Offered',
        'SampledDataCtrlr.TxUpdatedInterval=10',
      ],
    );
    assert.equal(
      charger.variables.get('SampledDataCtrlr.TxUpdatedMeasurands')?.value,
      'Energy.Active.Import.Register,Current.Import,Current.Offered',
    );
    assert.equal(charger.variables.get('SampledDataCtrlr.TxUpdatedInterval')?.value, '10');
    const { perPhaseCurrents, intervalS, why } = cs.connectorOf('CS201', 1)?.sampling ?? {};
    assert.deepEqual(
      { perPhaseCurrents, intervalS, why },
      { perPhaseCurrents: true, intervalS: 10, why: undefined },
    );
    assert.deepEqual(charger.violations, []);
  });

  it('hears a refused SetVariables as Rejected: the sampling says the charger refused it', async () => {
    const cs = await interop.harness().centralSystem();
    const charger = await charger201(cs, {
      model: (variables) =>
        variables.set('SampledDataCtrlr.TxUpdatedMeasurands', {
          value: 'Energy.Active.Import.Register',
          readonly: true,
        }),
    });
    manager(cs, { configureSampling: true, offlineFallbackA: null }).apply(setPoint('CS201'));
    await until(() => cs.connectorOf('CS201', 1)?.sampling !== undefined, [[cs, 'connector']], 5000);
    const sampling = cs.connectorOf('CS201', 1)?.sampling;
    assert.equal(sampling?.perPhaseCurrents, false);
    assert.match(
      sampling?.why ?? '',
      /refused MeterValuesSampledData=Energy\.Active\.Import\.Register,Current\.Import \(Rejected\)/,
    );
    assert.equal(sampling?.intervalS, 10, 'the interval it took');
    assert.equal(
      charger.variables.get('SampledDataCtrlr.TxUpdatedMeasurands')?.value,
      'Energy.Active.Import.Register',
    );
  });

  it('answers ChangeConfiguration in 1.6 words: Rejected, RebootRequired, NotSupported', async () => {
    const cs = await interop.harness().centralSystem();
    const charger = await charger201(cs, {
      model: (variables) => variables.delete('OCPPCommCtrlr.HeartbeatInterval'),
    });
    const change = async (key: string, value: string) =>
      (await cs.call('CS201', 'ChangeConfiguration', { key, value })).status;
    // A value the variable does not take (2.0.1 has no Temperature measurand; an interval is a number).
    assert.equal(
      await change('MeterValuesSampledData', 'Energy.Active.Import.Register,Temperature'),
      'Rejected',
    );
    assert.equal(await change('MeterValueSampleInterval', 'soon'), 'Rejected');
    // A 1.6 list with spaces goes as a 2.0.1 MemberList.
    assert.equal(
      await change('MeterValuesSampledData', 'Energy.Active.Import.Register, Current.Import'),
      'Accepted',
    );
    assert.equal(
      charger.variables.get('SampledDataCtrlr.TxUpdatedMeasurands')?.value,
      'Energy.Active.Import.Register,Current.Import',
    );
    // OCPPCommCtrlr is known, HeartbeatInterval not: the key is not supported.
    assert.equal(await change('HeartbeatInterval', '30'), 'NotSupported');
    assert.equal(await change('ChargeProfileMaxStackLevel', '3'), 'Rejected', 'ReadOnly');
    charger.answerWith('SetVariables', (r) => ({
      setVariableResult: r.setVariableData.map(({ component, variable }) => ({
        attributeStatus: 'RebootRequired' as const,
        component,
        variable,
      })),
    }));
    assert.equal(await change('MeterValueSampleInterval', '15'), 'RebootRequired');
    const sent = charger.received.length;
    assert.equal(
      await change('NumberOfConnectors', '4'),
      'Rejected',
      'read-only: nothing to ask the charger',
    );
    assert.equal(charger.received.length, sent);
    assert.deepEqual(charger.violations, []);
  });

  it('installs the offline fallback on the 2.0.1 charger: a TxDefaultProfile on EVSE 0 below its limits', async () => {
    const cs = await interop.harness().centralSystem();
    const charger = await charger201(cs);
    manager(cs, { configureSampling: false, offlineFallbackA: 8 }).apply(setPoint('CS201'));
    await until(() => cs.connectorOf('CS201', 1)?.offlineFallback !== undefined, [[cs, 'connector']], 5000);
    assert.deepEqual(
      charger.profiles.installed.map(({ evseId, profile }) => ({
        evseId,
        purpose: profile.chargingProfilePurpose,
        stackLevel: profile.stackLevel,
        limit: profile.chargingSchedule[0]?.chargingSchedulePeriod[0]?.limit,
        ends: profile.validTo !== undefined,
      })),
      [
        { evseId: 0, purpose: 'TxDefaultProfile', stackLevel: 0, limit: 8, ends: false },
        { evseId: 1, purpose: 'TxDefaultProfile', stackLevel: 9, limit: 16, ends: true },
      ],
    );
    assert.equal(charger.offeredA(1), 16);
    assert.deepEqual(
      { ...cs.connectorOf('CS201', 1)?.offlineFallback, since: undefined },
      { limitA: 8, afterS: 300, since: undefined },
    );
    assert.deepEqual(charger.violations, []);
  });

  it('learns of the simulator speaking 2.0.1 what it learns of it speaking 1.6', async () => {
    const cs = await interop.harness().centralSystem();
    const configuration = {
      SupportedFeatureProfiles: 'Core,LocalAuthListManagement,SmartCharging',
      ConnectorPhaseRotation: '0.STR,1.TRS,2.NotApplicable',
    };
    const connectors = [{ phases: 3 as const }, { phases: 1 as const }];
    await simulator(cs, 'SIM16', { connectors, configuration });
    await simulator(cs, 'SIM201', { ocppVersion: '2.0.1', connectors, configuration });
    const as16 = await capabilityKeys(cs, 'SIM16');
    const as201 = await capabilityKeys(cs, 'SIM201');
    // Core's messages are every 2.0.1 station's: FirmwareManagement and RemoteTrigger with them.
    assert.deepEqual(as201.capabilities, {
      ...as16.capabilities,
      featureProfiles: [
        'Core',
        'FirmwareManagement',
        'LocalAuthListManagement',
        'SmartCharging',
        'RemoteTrigger',
      ],
    });
    assert.deepEqual(as201.capabilities.phaseRotation, { 0: 'STR', 1: 'TRS', 2: 'NotApplicable' });
    assert.equal(as201.capabilities.numberOfConnectors, 2);
    assert.deepEqual(as201.readonly, { ...as16.readonly, ConnectorPhaseRotation: true });
  });
});
