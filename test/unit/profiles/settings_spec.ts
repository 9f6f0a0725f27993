import assert from 'node:assert/strict';
import { IEC_61851_MINIMUM_A } from '../../../lib/electrical';
import { parseProfileSettings } from '../../../lib/profiles/settings';

/** The charging-profile node's settings as a person types them (editor text fields). */
describe('charging-profile settings', () => {
  it('the offline fallback: 6 A after 300 s by default, a current typed, or off', () => {
    const defaults = parseProfileSettings({});
    assert.deepEqual([defaults.offlineFallbackA, defaults.offlineFallbackAfterS], [IEC_61851_MINIMUM_A, 300]);
    const typed = parseProfileSettings({ offlineFallbackA: ' 8 ', offlineFallbackAfterS: '600' });
    assert.deepEqual([typed.offlineFallbackA, typed.offlineFallbackAfterS], [8, 600]);
    assert.equal(parseProfileSettings({ offlineFallbackA: 'Off' }).offlineFallbackA, null);
  });

  it('asks chargers for their currents every 10 s by default, at an interval typed, or not at all', () => {
    const defaults = parseProfileSettings({});
    assert.deepEqual([defaults.configureSampling, defaults.samplingIntervalS], [true, 10]);
    const typed = parseProfileSettings({ configureSampling: true, samplingIntervalS: ' 5 ' });
    assert.deepEqual([typed.configureSampling, typed.samplingIntervalS], [true, 5]);
    assert.equal(parseProfileSettings({ configureSampling: false }).configureSampling, false);
    // While a limit moves: 5 s by default, a typed interval, 0 for never.
    assert.deepEqual(
      [
        defaults.fastSamplingIntervalS,
        typed.fastSamplingIntervalS,
        parseProfileSettings({ fastSamplingIntervalS: '3' }).fastSamplingIntervalS,
        parseProfileSettings({ fastSamplingIntervalS: '0' }).fastSamplingIntervalS,
      ],
      [5, 5, 3, 0],
    );
    assert.throws(
      () => parseProfileSettings({ samplingIntervalS: '0' }),
      /^ConfigError: samplingIntervalS: /,
    );
  });

  it('names the field at fault', () => {
    assert.throws(
      () => parseProfileSettings({ offlineFallbackA: 'six' }),
      /^ConfigError: offlineFallbackA: /,
    );
    assert.throws(() => parseProfileSettings({ offlineFallbackAfterS: '5' }), /offlineFallbackAfterS: /);
  });
});
