import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../lib/config-error';
import { loadShippedProfile, SHIPPED_PROFILES, validateProfile } from '../../../lib/modbus/profiles';
import { SUNSPEC_DISCOVERY } from '../../../lib/modbus/profiles/sunspec-models';

/**
 * Issue #47: the shipped device profiles are data (lib/modbus/profiles/<id>.json) checked by the
 * same validator as the users' own profiles, at load. Every file ships and passes; a broken one is
 * refused with an error naming the profile and the field.
 */
const dir = join(__dirname, '..', '..', '..', 'lib', 'modbus', 'profiles');
const files = readdirSync(dir).filter((name) => name.endsWith('.json'));
const data = (name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Record<string, unknown>;

describe('the shipped Modbus device profiles as data (issue #47)', () => {
  it('ships every profile file, each once, under its own id', () => {
    assert.deepEqual(
      files.map((name) => name.replace(/\.json$/, '')).sort(),
      SHIPPED_PROFILES.map((profile) => profile.id).sort(),
    );
  });

  it('passes every one through the users’ validator unchanged', () => {
    for (const profile of SHIPPED_PROFILES) {
      // What the editor sends back for a shipped profile (JSON) is accepted as the same profile.
      assert.deepEqual(validateProfile(JSON.parse(JSON.stringify(profile)), profile.id), profile, profile.id);
    }
    const sunspec = SHIPPED_PROFILES.filter((profile) => profile.sunspec);
    assert.equal(sunspec.length, 7);
    for (const profile of sunspec) assert.deepEqual(profile.sunspec, SUNSPEC_DISCOVERY[profile.kind]);
  });

  it('refuses a broken shipped profile, naming the profile and the field', () => {
    const broken = data('eastron-sdm630');
    const registers = broken.registers as Record<string, unknown>[];
    registers[3] = { ...registers[3], unit: 'kWh' };
    assert.throws(
      () => loadShippedProfile('eastron-sdm630', broken),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.field === 'shipped profile eastron-sdm630.registers[3].unit' &&
        /kWh is not a unit of currentL1/.test(err.message),
    );
    assert.throws(
      () => loadShippedProfile('sunspec-meter', { ...data('sunspec-meter'), sunspec: 'battery' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.field === 'shipped profile sunspec-meter.sunspec' &&
        /"battery" is not one of meter, inverter/.test(err.message),
    );
    assert.throws(
      () => loadShippedProfile('eastron-sdm72d-m', data('eastron-sdm630')),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.field === 'shipped profile eastron-sdm72d-m.id' &&
        /"eastron-sdm630" is not the file's name/.test(err.message),
    );
  });
});
