import assert from 'node:assert/strict';
import { useOcppHarness } from '../../support/ocpp';

/**
 * Issue 37: a Schneider EVlink with authentication off starts each session with its serial number
 * as the id tag (its Default User ID Tag UNDEFINED; EVlink commissioning guide, vendor doc 004), and
 * an id-tag list refuses it: the refusal says what the tag is and what to do. The charger is a
 * plain ocpp-rpc client (not strict: the 35-character serial breaks idTag's 20 characters, as the
 * EVlink's does, so the charger is listed lenient as the EVlink guide says).
 */
describe('a charger that sends its own serial number as the id tag (EVlink, authentication off)', () => {
  const harness = useOcppHarness();
  const SERIAL = '3N1907051234567890EVB1P22PEATSTEST1'; // 35 characters, as an EVlink's

  it('is refused by the id-tag list with a log line naming the serial and the fix', async () => {
    const h = harness();
    const cs = await h.centralSystem({
      chargePoints: { 'EVLINK-S': { lenient: true } },
      authorization: { policy: 'localList' },
    });
    const client = h.charger(cs, 'EVLINK-S', { strictMode: false });
    await client.connect();
    const boot = (await client.call('BootNotification', {
      chargePointVendor: 'Schneider Electric',
      chargePointModel: 'EVlink Wallbox Plus',
      chargeBoxSerialNumber: SERIAL,
      firmwareVersion: '3.3.0.7',
    })) as { status: string };
    assert.equal(boot.status, 'Accepted');
    const start = (await client.call('StartTransaction', {
      connectorId: 1,
      idTag: SERIAL,
      meterStart: 0,
      timestamp: new Date().toISOString(),
    })) as { idTagInfo: { status: string } };
    assert.equal(start.idTagInfo.status, 'Invalid');
    const lines = h.log.matching(
      new RegExp(`badge ${SERIAL} refused at EVLINK-S \\(StartTransaction: Invalid\\)`),
      'warn',
    );
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]?.message ?? '',
      /: it is the charger's own serial number, .*Default User ID Tag \(key defaultIdTag\)/,
    );

    // Another refused badge gets no such hint.
    await client.call('Authorize', { idTag: '0A0E9B83' });
    const other = h.log.matching(/badge 0A0E9B83 refused at EVLINK-S \(Authorize: Invalid\)$/, 'warn');
    assert.equal(other.length, 1);
  });
});
