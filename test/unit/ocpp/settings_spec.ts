import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import { PasswordBook } from '../../../lib/ocpp/passwords';
import { parseSettings } from '../../../lib/ocpp/settings';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return `${err.field} | ${err.message}`;
    throw err;
  }
  throw new Error('no ConfigError');
}

describe('central-system settings', () => {
  it('fills the documented defaults from empty fields, as the editor saves them', () => {
    const options = parseSettings({ host: '', port: '', heartbeatIntervalS: '', pingIntervalS: '' });
    assert.equal(options.port, 9000);
    assert.equal(options.securityProfile, 0);
    assert.equal(options.unknownChargePoints, 'pending');
    assert.equal(options.heartbeatIntervalS, 300);
    assert.equal(options.pingIntervalS, 60);
    assert.equal(options.maxFrameBytes, 1024 * 1024);
    assert.equal(options.readConfigurationOnBoot, true);
    assert.deepEqual(options.authorization, {
      policy: 'localList',
      fallback: 'localList',
      flowTimeoutMs: 5000,
      matching: { caseInsensitive: true, byteOrderVariants: true },
    });
  });

  it('reads which tags may charge one car at a time, and the checkbox from before that setting', () => {
    assert.equal(
      parseSettings({ oneTransactionPerTag: 'listed' }).authorization?.oneTransactionPerTag,
      'listed',
    );
    assert.equal(parseSettings({ oneTransactionPerTag: '' }).authorization?.oneTransactionPerTag, undefined);
    assert.equal(parseSettings({ allowConcurrentTx: true }).authorization?.oneTransactionPerTag, 'none');
    assert.equal(parseSettings({ allowConcurrentTx: false }).authorization?.oneTransactionPerTag, undefined);
    assert.equal(
      fieldOf(() => parseSettings({ oneTransactionPerTag: 'some' })),
      'oneTransactionPerTag | oneTransactionPerTag: "some" is not one of every, listed, none',
    );
  });

  it('names the field and the allowed values when one is wrong', () => {
    for (const [settings, expected] of [
      [{ securityProfile: '4' }, 'securityProfile | securityProfile: "4" is not one of 0, 1, 2, 3'],
      [
        { unknownChargePoints: 'maybe' },
        'unknownChargePoints | unknownChargePoints: "maybe" is not one of reject, accept, pending',
      ],
      [{ pingIntervalS: 'often' }, 'pingIntervalS | pingIntervalS: "often" is not a whole number'],
      [{ callTimeoutS: '0' }, 'callTimeoutS | callTimeoutS: 0 s is outside 1 to 600 s'],
      [{ path: 'ocpp server' }, 'path | path: "ocpp server" is not a URL path such as /ocpp'],
      [{ fixedIdTag: 'X'.repeat(21) }, 'fixedIdTag | fixedIdTag: an id tag has at most 20 characters'],
    ] as const) {
      assert.equal(
        fieldOf(() => parseSettings(settings)),
        expected,
      );
    }
  });

  it('needs passwords for profiles 1 and 2 and TLS files for 2 and 3', () => {
    assert.match(
      fieldOf(() => parseSettings({ securityProfile: '1' })),
      /^passwords \| .*needs a password per charge point/,
    );
    assert.match(
      fieldOf(() => parseSettings({ securityProfile: '2', passwords: 'CP-1 0123456789abcdef' })),
      /^tlsCertificate \| /,
    );
    assert.match(
      fieldOf(() => parseSettings({ securityProfile: '3', tlsCertificate: '/etc/cs.pem' })),
      /^tlsPrivateKey \| /,
    );
    const options = parseSettings({
      securityProfile: '3',
      tlsCertificate: '/etc/cs.pem',
      tlsPrivateKey: '/etc/cs.key',
      tlsCa: '/etc/ca.pem',
    });
    assert.deepEqual(options.tls, {
      certificate: '/etc/cs.pem',
      privateKey: '/etc/cs.key',
      ca: '/etc/ca.pem',
    });
  });

  it('reads the list of known charge points and refuses duplicates and blank rows', () => {
    const options = parseSettings({
      chargePoints: [
        { id: 'TACW1142021G1XYZ', lenient: true },
        { id: 'EN+01', pingIntervalS: '0' },
      ],
    });
    assert.deepEqual(options.chargePoints, {
      TACW1142021G1XYZ: { lenient: true },
      'EN+01': { lenient: false, pingIntervalS: 0 },
    });
    assert.equal(
      fieldOf(() => parseSettings({ chargePoints: [{ id: 'A' }, { id: 'A' }] })),
      'chargePoints[2] | chargePoints[2]: charge point A is listed twice',
    );
    assert.equal(
      fieldOf(() => parseSettings({ chargePoints: [{ id: ' ' }] })),
      'chargePoints[1] | chargePoints[1]: has no charge point identity',
    );
  });
});

describe('PasswordBook', () => {
  it('reads one charger per line, with comments and a default for the rest', () => {
    const book = PasswordBook.parse('# car park\nCP-1  first-password-0001\n\n* everyone-else-000001\n');
    assert.equal(book.verify('CP-1', Buffer.from('first-password-0001')), true);
    assert.equal(book.verify('CP-1', Buffer.from('everyone-else-000001')), false);
    assert.equal(book.verify('CP-7', Buffer.from('everyone-else-000001')), true);
    assert.deepEqual(book.identities(), ['CP-1']);
  });

  it('names the line that is wrong', () => {
    assert.throws(
      () => PasswordBook.parse('CP-1 a\nCP-2\n'),
      /passwords: line 2: expected "<charge point identity> <password>"/,
    );
    assert.throws(
      () => PasswordBook.parse('CP-1 a\nCP-1 b\n'),
      /passwords: line 2: charge point CP-1 is listed twice/,
    );
  });
});
