import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { waitFor } from '../../support/events';
import { useOcppHarness } from '../../support/ocpp';
import { PlainCharger } from '../../support/plain-charger';

/**
 * A Bender CC613 with "Allow long get configuration keys" on reports configuration values over the
 * 500 characters OCPP 1.6's GetConfiguration.conf schema allows. A strict central system used to
 * refuse the whole answer after every boot, so none of the charger's keys (stack levels, rotation,
 * sampling) were learned. The charger here is written from the specification on plain `ws`
 * (test/support/plain-charger.ts), so the central system's validation is the only one on the way.
 */

const LONG = 'MIIB'.padEnd(812, 'x');

describe('a GetConfiguration answer with a value over 500 characters (Bender "Allow long get configuration keys")', () => {
  const harness = useOcppHarness();
  const chargers: PlainCharger[] = [];
  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
  });

  async function boot(cs: CentralSystem, cp: PlainCharger) {
    chargers.push(cp);
    const read = waitFor<[{ action: string; response?: unknown }]>(
      cs,
      'command',
      (command: { action: string }) => command.action === 'GetConfiguration',
    );
    await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    return read;
  }

  it('strict: the answer read after boot is kept whole, the long value with it, and the breach logged once naming charger and key', async () => {
    const cs = await harness().centralSystem({ readConfigurationOnBoot: true });
    const cp = new PlainCharger('+49*839*0000000001').configure('ClientCertificate', LONG);
    const [command] = await boot(cs, cp);
    const keys = cs.chargePoint(cp.identity)?.configuration?.keys ?? [];
    assert.equal(
      keys.find((entry) => entry.key === 'ClientCertificate')?.value,
      LONG,
      'the value kept whole',
    );
    assert.equal(keys.find((entry) => entry.key === 'ChargeProfileMaxStackLevel')?.value, '8');
    assert.equal(keys.length, 10, 'every key of the answer');
    assert.deepEqual(command.response, { configurationKey: keys });
    // Read again (the profile manager, a flow): the answer is taken again, the breach not said again.
    const again = await cs.call(cp.identity, 'GetConfiguration', { key: ['ClientCertificate'] });
    assert.equal(again.configurationKey?.[0]?.value?.length, 812);
    const said = harness().log.matching(/GetConfiguration/, 'warn');
    assert.deepEqual(
      said.map((line) => line.message),
      [
        'charge point +49*839*0000000001: GetConfiguration answer has a value of 812 characters for key ClientCertificate (OCPP 1.6 allows 500; Bender "Allow long get configuration keys"), kept',
      ],
    );
    assert.deepEqual(cp.violations, []);
  });

  it('strict: an entry broken otherwise (a key over 50 characters) is left out and named; the other keys are kept', async () => {
    const cs = await harness().centralSystem({ readConfigurationOnBoot: true });
    const name = 'VendorSpecificKeyWhoseNameIsLongerThanFiftyCharacters';
    const cp = new PlainCharger('CC613-2').configure(name, '1').configure('ClientCertificate', LONG);
    await boot(cs, cp);
    const keys = cs.chargePoint(cp.identity)?.configuration?.keys ?? [];
    assert.deepEqual(
      keys.map((entry) => entry.key),
      [
        'ChargeProfileMaxStackLevel',
        'ChargingScheduleAllowedChargingRateUnit',
        'ChargingScheduleMaxPeriods',
        'MaxChargingProfilesInstalled',
        'MeterValueSampleInterval',
        'MeterValuesSampledData',
        'NumberOfConnectors',
        'SupportedFeatureProfiles',
        'StopTransactionOnInvalidId',
        'ClientCertificate',
      ],
    );
    assert.equal(
      harness().log.matching(
        new RegExp(`CC613-2: GetConfiguration answer's key ${name} breaks the OCPP 1.6 schema, left out`),
        'warn',
      ).length,
      1,
    );
    // A breach of the answer as a whole (a field GetConfiguration.conf has not) still refuses it.
    const broken = cp as unknown as { answer(action: string, request: unknown): object };
    const answer = broken.answer.bind(cp);
    broken.answer = (action, request) => ({ ...answer(action, request), vendorExtra: true });
    await assert.rejects(
      cs.call(cp.identity, 'GetConfiguration', {}),
      /invalid response: vendorExtra: is not a field/,
    );
  });
});
