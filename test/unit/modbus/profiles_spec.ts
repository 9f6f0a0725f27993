import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import {
  findProfile,
  parseCustomProfile,
  parseProfileJson,
  SHIPPED_PROFILES,
  summariseProfile,
  validateProfile,
} from '../../../lib/modbus/profiles';

/** The profiles the issue asks for, by the id they ship under. */
const REQUIRED = [
  'eastron-sdm630',
  'eastron-sdm72d-m',
  'eastron-sdm120',
  'siemens-pac2200',
  'schneider-iem3x5x',
  'carlo-gavazzi-em24',
  'carlo-gavazzi-em340',
  'bcontrol-em300-lr',
  'abb-b23-b24',
  'janitza-umg604',
  'phoenix-eem-mb371',
  'sunspec-meter',
  'sunspec-inverter',
  'fronius-sunspec-meter',
  'solaredge-sunspec-meter',
  'sma-sunspec-inverter',
  'kostal-sunspec-inverter',
  'huawei-sun2000-meter',
  'huawei-sun2000-inverter',
];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('Modbus device profiles', () => {
  it('ship every meter the issue names, with unique ids', () => {
    const ids = SHIPPED_PROFILES.map((profile) => profile.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of REQUIRED) assert.ok(findProfile(id), id);
  });

  it('are valid data: each one passes the same check as a profile typed into the editor', () => {
    for (const profile of SHIPPED_PROFILES) {
      // A JSON round trip proves they are data (no functions, nothing JSON cannot carry).
      const copy = JSON.parse(JSON.stringify(profile));
      assert.deepEqual(copy, profile, profile.id);
      assert.doesNotThrow(() => validateProfile(copy), profile.id);
    }
  });

  it('flag what the sources disagree on, and the Phoenix map as unverified', () => {
    const uncertain = (id: string) =>
      summariseProfile(findProfile(id) ?? assert.fail(id)).uncertain.map((entry) => entry.measurand);
    assert.deepEqual(uncertain('siemens-pac2200'), ['frequency']);
    assert.deepEqual(uncertain('carlo-gavazzi-em24'), ['frequency', 'importEnergy', 'exportEnergy']);
    assert.deepEqual(uncertain('phoenix-eem-mb371'), ['importEnergy', 'exportEnergy']);
    assert.equal(findProfile('phoenix-eem-mb371')?.verified, false);
    assert.ok(SHIPPED_PROFILES.filter((p) => p.id !== 'phoenix-eem-mb371').every((p) => p.verified));
    const pac = summariseProfile(findProfile('siemens-pac2200') ?? assert.fail());
    assert.match(pac.uncertain[0]?.note ?? '', /46/);
  });

  it('declare the sign convention of devices that count export positive', () => {
    const exportPositive = SHIPPED_PROFILES.filter((p) => p.powerSign === 'export-positive').map((p) => p.id);
    assert.deepEqual(exportPositive.sort(), [
      'huawei-sun2000-inverter',
      'huawei-sun2000-meter',
      'kostal-sunspec-inverter',
      'sma-inverter',
      'sma-sunspec-inverter',
      'solaredge-sunspec-inverter',
      'solaredge-sunspec-meter',
      'sunspec-inverter',
    ]);
  });

  it('build a custom profile from the editor table, numbers typed as text', () => {
    const profile = parseCustomProfile({
      functionCode: '4',
      wordOrder: 'CDAB',
      powerSign: 'import-positive',
      readable: '0-79, 100',
      registers: [
        { measurand: 'voltageL1', address: '0', type: 'float32', unit: 'V', scale: '' },
        {
          measurand: 'powerTotal',
          address: '52',
          type: 'int32',
          unit: 'kW',
          scale: '0.001',
          direction: 'import',
        },
      ],
    });
    assert.equal(profile.functionCode, 4);
    assert.deepEqual(profile.readable, [
      [0, 79],
      [100, 100],
    ]);
    assert.deepEqual(profile.registers[1], {
      measurand: 'powerTotal',
      address: 52,
      type: 'int32',
      unit: 'kW',
      scale: 0.001,
    });
  });

  it('name the exact field of a custom register that is wrong', () => {
    const unit = configError(() =>
      parseCustomProfile({
        registers: [
          { measurand: 'voltageL1', address: '0', type: 'float32', unit: 'V' },
          { measurand: 'currentL1', address: '6', type: 'float32', unit: 'W' },
        ],
      }),
    );
    assert.equal(unit.field, 'registers[1].unit');
    assert.match(unit.message, /W is not a unit of currentL1/);
    assert.equal(
      configError(() =>
        parseCustomProfile({
          registers: [{ measurand: 'voltageL1', address: '70000', type: 'uint16', unit: 'V' }],
        }),
      ).field,
      'registers[0].address',
    );
    assert.equal(configError(() => parseCustomProfile({ registers: [] })).field, 'registers');
    assert.equal(
      configError(() => parseCustomProfile({ readable: '10-2', registers: [] })).field,
      'readable',
    );
    const twice = configError(() =>
      parseCustomProfile({
        registers: [
          { measurand: 'voltageL1', address: '0', type: 'float32', unit: 'V' },
          { measurand: 'voltageL1', address: '2', type: 'float32', unit: 'V' },
        ],
      }),
    );
    assert.match(twice.message, /voltageL1 is defined twice/);
  });

  it('take a whole profile as JSON and say where it is wrong', () => {
    const profile = parseProfileJson(
      JSON.stringify({
        id: 'my-meter',
        name: 'My meter',
        functionCode: 3,
        wordOrder: 'ABCD',
        registers: [
          { measurand: 'powerTotal', address: 100, type: 'int16', unit: 'W', scaleFactorAddress: 101 },
        ],
      }),
    );
    assert.equal(profile.registers[0]?.scaleFactorAddress, 101);
    assert.equal(configError(() => parseProfileJson('{')).field, 'profileJson');
    assert.equal(
      configError(() =>
        parseProfileJson(
          JSON.stringify({ id: 'x', name: 'x', functionCode: 5, wordOrder: 'ABCD', registers: [] }),
        ),
      ).field,
      'profileJson.functionCode',
    );
    const far = configError(() =>
      parseProfileJson(
        JSON.stringify({
          id: 'x',
          name: 'x',
          functionCode: 3,
          wordOrder: 'ABCD',
          maxRegistersPerRequest: 10,
          registers: [
            { measurand: 'powerTotal', address: 100, type: 'int16', unit: 'W', scaleFactorAddress: 200 },
          ],
        }),
      ),
    );
    assert.equal(far.field, 'profileJson.registers[0]');
  });
});
