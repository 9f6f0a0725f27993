import assert from 'node:assert/strict';
import { NoCounterpart, translateCommand } from '../../../lib/ocpp/v201/commands';
import { MAX_EVSES, relativeToGrid, rotationTo16 } from '../../../lib/ocpp/v201/device-model';
import { findViolation201 } from '../../../lib/ocpp/v201/schemas';
import { CAPABILITY_KEYS, parseCapabilities } from '../../../lib/profiles/capabilities';

/**
 * The 1.6 configuration keys a 2.0.1 charger has no one variable for (SupportedFeatureProfiles,
 * ConnectorPhaseRotation, NumberOfConnectors), read from its device model in the same GetVariables
 * as the others; the readonly flags by the standard's mutability; ChangeConfiguration's answers in
 * 1.6's words. The translation alone, without a charger (discovery_spec.ts has the chargers).
 */

type Json = Record<string, unknown>;
interface Item {
  component: { name: string; evse?: { id: number } };
  variable: { name: string; instance?: string };
}
interface Result extends Item {
  attributeStatus: string;
  attributeValue?: string;
}

const none = () => undefined;
const translate = (action: 'GetConfiguration' | 'ChangeConfiguration', request: Json) =>
  translateCommand(action, request, none, () => 1);

const name = (item: Item) =>
  `${item.component.name}${item.component.evse ? `#${item.component.evse.id}` : ''}.${item.variable.name}`;

/** A charger's answer to `items`: `answers` by `Component[#evse].Variable`, UnknownComponent else. */
function answer(items: Item[], answers: Record<string, string | { status: string }>): Json {
  return {
    getVariableResult: items.map((item): Result => {
      const found = answers[name(item)];
      if (found === undefined) return { ...item, attributeStatus: 'UnknownComponent' };
      if (typeof found === 'object') return { ...item, attributeStatus: found.status };
      return { ...item, attributeStatus: 'Accepted', attributeValue: found };
    }),
  };
}

/** A 2.0.1 charger with two EVSEs: the station wired STR to the grid, EVSE 2 on one phase. */
const TWO_EVSES: Record<string, string | { status: string }> = {
  'SmartChargingCtrlr.Enabled': 'true',
  'SmartChargingCtrlr.Available': 'true',
  'SmartChargingCtrlr.RateUnit': 'A,W',
  'SmartChargingCtrlr.ProfileStackLevel': '9',
  'SmartChargingCtrlr.PeriodsPerSchedule': '24',
  'SmartChargingCtrlr.Entries': '20',
  'SmartChargingCtrlr.Phases3to1': 'false',
  // No LocalAuthListCtrlr (UnknownComponent); reservations switched off.
  'ReservationCtrlr.Enabled': 'false',
  'ReservationCtrlr.Available': 'true',
  'ChargingStation.PhaseRotation': 'STR',
  'EVSE#1.PhaseRotation': 'RST',
  'EVSE#2.PhaseRotation': 'Rxx',
};

function read(keys: readonly string[], answers: Record<string, string | { status: string }>) {
  const wire = translate('GetConfiguration', { key: [...keys] });
  const items = (wire.request.getVariableData ?? []) as Item[];
  const response = wire.answer ?? wire.read(answer(items, answers));
  return {
    items: items.map(name),
    wire,
    response: response as {
      configurationKey: { key: string; readonly: boolean; value?: string }[];
      unknownKey: string[];
    },
  };
}

describe('OCPP 2.0.1: the configuration keys read from the device model', () => {
  it('reads the capability keys in one valid GetVariables, each variable once', () => {
    const { items, wire } = read(CAPABILITY_KEYS, TWO_EVSES);
    assert.equal(wire.action, 'GetVariables');
    assert.equal(findViolation201('GetVariables', 'request', wire.request), undefined);
    assert.equal(new Set(items).size, items.length, 'no item twice');
    assert.deepEqual(
      items.filter((item) => !item.startsWith('EVSE#')),
      [
        'SmartChargingCtrlr.RateUnit',
        'SmartChargingCtrlr.ProfileStackLevel',
        'SmartChargingCtrlr.PeriodsPerSchedule',
        'SmartChargingCtrlr.Entries',
        'SmartChargingCtrlr.Phases3to1',
        'LocalAuthListCtrlr.Enabled',
        'LocalAuthListCtrlr.Available',
        'ReservationCtrlr.Enabled',
        'ReservationCtrlr.Available',
        'SmartChargingCtrlr.Enabled',
        'SmartChargingCtrlr.Available',
        'ChargingStation.PhaseRotation',
      ],
    );
    // The EVSEs probed for their rotation, which also counts them: bounded.
    assert.deepEqual(
      items.filter((item) => item.startsWith('EVSE#')),
      Array.from({ length: MAX_EVSES }, (_, i) => `EVSE#${i + 1}.PhaseRotation`),
    );
  });

  it('answers SupportedFeatureProfiles, ConnectorPhaseRotation and NumberOfConnectors as a 1.6 charger would', () => {
    const { response } = read(CAPABILITY_KEYS, TWO_EVSES);
    assert.deepEqual(response.unknownKey, []);
    assert.deepEqual(response.configurationKey, [
      // An unknown LocalAuthListCtrlr and a ReservationCtrlr not Enabled: neither profile.
      {
        key: 'SupportedFeatureProfiles',
        readonly: true,
        value: 'Core,FirmwareManagement,SmartCharging,RemoteTrigger',
      },
      { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current,Power' },
      { key: 'ChargeProfileMaxStackLevel', readonly: true, value: '9' },
      { key: 'ChargingScheduleMaxPeriods', readonly: true, value: '24' },
      { key: 'MaxChargingProfilesInstalled', readonly: true, value: '20' },
      // EVSE 1 is RST to the station, which is STR to the grid: STR to the grid, as 1.6 says it.
      { key: 'ConnectorPhaseRotation', readonly: true, value: '0.STR, 1.STR, 2.NotApplicable' },
      { key: 'ConnectorSwitch3to1PhaseSupported', readonly: true, value: 'false' },
      { key: 'NumberOfConnectors', readonly: true, value: '2' },
    ]);
    const capabilities = parseCapabilities(response.configurationKey);
    assert.equal(capabilities.smartCharging, true);
    assert.deepEqual(capabilities.phaseRotation, { 0: 'STR', 1: 'STR', 2: 'NotApplicable' });
    assert.equal(capabilities.numberOfConnectors, 2);
  });

  it('takes an unknown controller as a feature the charger does not have, not as an error', () => {
    const answers = { ...TWO_EVSES };
    delete answers['SmartChargingCtrlr.Enabled'];
    delete answers['SmartChargingCtrlr.Available'];
    const { response } = read(['SupportedFeatureProfiles'], answers);
    assert.deepEqual(response, {
      configurationKey: [
        { key: 'SupportedFeatureProfiles', readonly: true, value: 'Core,FirmwareManagement,RemoteTrigger' },
      ],
      unknownKey: [],
    });
    assert.equal(parseCapabilities(response.configurationKey).smartCharging, false);
    // Available false is no profile either; Enabled false of LocalAuthListCtrlr is only 1.6's LocalAuthListEnabled.
    const listing = read(['SupportedFeatureProfiles', 'LocalAuthListEnabled'], {
      ...TWO_EVSES,
      'SmartChargingCtrlr.Available': 'false',
      'LocalAuthListCtrlr.Enabled': 'false',
      'LocalAuthListCtrlr.Available': { status: 'UnknownVariable' },
      'ReservationCtrlr.Enabled': 'true',
    }).response;
    assert.deepEqual(listing.configurationKey, [
      {
        key: 'SupportedFeatureProfiles',
        readonly: true,
        value: 'Core,FirmwareManagement,LocalAuthListManagement,Reservation,RemoteTrigger',
      },
      { key: 'LocalAuthListEnabled', readonly: false, value: 'false' },
    ]);
  });

  it('counts EVSEs up to the first the charger does not know, with AvailabilityState when no rotation is asked', () => {
    const answers = {
      'EVSE#1.AvailabilityState': 'Available',
      'EVSE#2.AvailabilityState': { status: 'UnknownVariable' },
      'EVSE#3.AvailabilityState': 'Inoperative',
    };
    const { items, response } = read(['NumberOfConnectors'], answers);
    assert.deepEqual(
      items,
      Array.from({ length: MAX_EVSES }, (_, i) => `EVSE#${i + 1}.AvailabilityState`),
    );
    assert.deepEqual(response.configurationKey, [{ key: 'NumberOfConnectors', readonly: true, value: '3' }]);
    // Every probed EVSE there: as many as probed.
    const many = Object.fromEntries(
      Array.from({ length: MAX_EVSES }, (_, i) => [`EVSE#${i + 1}.AvailabilityState`, 'Available']),
    );
    assert.equal(read(['NumberOfConnectors'], many).response.configurationKey[0]?.value, String(MAX_EVSES));
    // No EVSE and no station rotation: unknown, as a key the charger does not have.
    assert.deepEqual(read(['NumberOfConnectors', 'ConnectorPhaseRotation'], {}).response, {
      configurationKey: [],
      unknownKey: ['NumberOfConnectors', 'ConnectorPhaseRotation'],
    });
    // An EVSE without a rotation is Unknown; without the station's, each EVSE's own.
    assert.deepEqual(
      read(['ConnectorPhaseRotation'], {
        'EVSE#1.PhaseRotation': { status: 'UnknownVariable' },
        'EVSE#2.PhaseRotation': 'TRS',
      }).response.configurationKey,
      [{ key: 'ConnectorPhaseRotation', readonly: true, value: '1.Unknown, 2.TRS' }],
    );
  });

  it('reports a key readonly where its variable is ReadOnly by the standard', () => {
    const { response } = read(
      ['HeartbeatInterval', 'MeterValueSampleInterval', 'SecurityProfile', 'LocalAuthListMaxLength'],
      {
        'OCPPCommCtrlr.HeartbeatInterval': '60',
        'SampledDataCtrlr.TxUpdatedInterval': '10',
        'SecurityCtrlr.SecurityProfile': '1',
        'LocalAuthListCtrlr.Entries': '1000',
      },
    );
    assert.deepEqual(
      response.configurationKey.map(({ key, readonly }) => [key, readonly]),
      [
        ['HeartbeatInterval', false],
        ['MeterValueSampleInterval', false],
        ['SecurityProfile', true],
        ['LocalAuthListMaxLength', true],
      ],
    );
  });

  it('reads every key, the made-up ones too, in a GetConfiguration without keys', () => {
    const { response, items } = read([], TWO_EVSES);
    assert.ok(items.includes('EVSE#1.PhaseRotation'));
    assert.ok(!items.includes('SecurityCtrlr.BasicAuthPassword'), 'the password is never read');
    const keys = response.configurationKey.map(({ key }) => key);
    for (const key of ['SupportedFeatureProfiles', 'ConnectorPhaseRotation', 'NumberOfConnectors'])
      assert.ok(keys.includes(key), key);
  });

  it('names the instance of the variables appendix 3 gives one', () => {
    const wire = translate('ChangeConfiguration', { key: 'TransactionMessageAttempts', value: '5' });
    assert.deepEqual(wire.request, {
      setVariableData: [
        {
          attributeValue: '5',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'MessageAttempts', instance: 'TransactionEvent' },
        },
      ],
    });
  });

  it('reads SetVariables answers as 1.6 ChangeConfiguration answers', () => {
    const wire = translate('ChangeConfiguration', {
      key: 'MeterValuesSampledData',
      value: 'Energy.Active.Import.Register, Current.Import',
    });
    assert.deepEqual(wire.request, {
      setVariableData: [
        {
          attributeValue: 'Energy.Active.Import.Register,Current.Import',
          component: { name: 'SampledDataCtrlr' },
          variable: { name: 'TxUpdatedMeasurands' },
        },
      ],
    });
    const statusOf = (attributeStatus?: string) =>
      wire.read({ setVariableResult: attributeStatus === undefined ? [] : [{ attributeStatus }] });
    assert.deepEqual(
      [
        'Accepted',
        'RebootRequired',
        'Rejected',
        'UnknownComponent',
        'UnknownVariable',
        'NotSupportedAttributeType',
      ]
        .concat([undefined as unknown as string])
        .map((status) => (statusOf(status) as { status: string }).status),
      ['Accepted', 'RebootRequired', 'Rejected', 'NotSupported', 'NotSupported', 'NotSupported', 'Rejected'],
    );
    // A made-up key is read-only, as a 1.6 charger has SupportedFeatureProfiles: Rejected, unasked.
    assert.deepEqual(translate('ChangeConfiguration', { key: 'NumberOfConnectors', value: '3' }).answer, {
      status: 'Rejected',
    });
    assert.throws(
      () => translate('ChangeConfiguration', { key: 'MeterValuesSampledDataMaxLength', value: '3' }),
      (err: Error) => err instanceof NoCounterpart && /MeterValuesSampledDataMaxLength/.test(err.message),
    );
  });

  it('says a 2.0.1 phase rotation as 1.6 does, composed to the grid', () => {
    assert.deepEqual(
      ['RST', 'tsr', 'Rxx', 'xSx', 'RSx', 'RRS', 'NotApplicable', 'unknown', 'junk'].map(rotationTo16),
      [
        'RST',
        'TSR',
        'NotApplicable',
        'NotApplicable',
        'Unknown',
        'Unknown',
        'NotApplicable',
        'Unknown',
        'Unknown',
      ],
    );
    assert.equal(relativeToGrid('RST', 'SRT'), 'SRT');
    assert.equal(relativeToGrid('STR', 'RST'), 'STR');
    // EVSE phase 1 on the station's T, which is on the grid's R; 2 on R → S; 3 on S → T.
    assert.equal(relativeToGrid('STR', 'TRS'), 'RST');
    assert.equal(relativeToGrid('STR', 'xRx'), 'xSx');
    assert.equal(relativeToGrid(undefined, 'TRS'), 'TRS');
    assert.equal(relativeToGrid('Unknown', 'TRS'), 'TRS');
  });
});
