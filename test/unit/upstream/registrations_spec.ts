import assert from 'node:assert/strict';
import {
  formatRegistrations,
  importRegistrations,
  mergeRegistrations,
  parseRegistrations,
  readRegistrations,
} from '../../../lib/upstream/registrations';

/** The backend's registration list as CSV (issue #37): identity,password[,certificate file]. */
describe('upstream registrations: the backend’s registration list (CSV)', () => {
  it('reads identity,password[,certificate file], a header, comments, ; as separator and quoted fields', () => {
    const { registrations, problems } = parseRegistrations(
      [
        'Identity;Password;Certificate file',
        '# exported from the backend',
        'CP-A;secret-a',
        '',
        'CP-B,"pa,ss ""b""",/etc/ampflow/cp-b.pem',
        '+49*839*0000000001,,/etc/ampflow/bender.pem',
      ].join('\r\n'),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(registrations, [
      { identity: 'CP-A', password: 'secret-a', line: 3 },
      { identity: 'CP-B', password: 'pa,ss "b"', certificateFile: '/etc/ampflow/cp-b.pem', line: 5 },
      { identity: '+49*839*0000000001', certificateFile: '/etc/ampflow/bender.pem', line: 6 },
    ]);
  });

  it('names every bad line with its number and keeps every good line before and after it', () => {
    const { registrations, problems } = parseRegistrations(
      [
        'CP-1,one',
        'CP 2,two',
        'CP-3',
        'CP-4,four,/x.pem,extra',
        'CP-1,again',
        'CP-5,"open',
        ',nobody',
        'CP-6,six',
      ].join('\n'),
    );
    assert.deepEqual(
      registrations.map((entry) => [entry.identity, entry.password]),
      [
        ['CP-1', 'one'],
        ['CP-6', 'six'],
      ],
    );
    assert.deepEqual(problems, [
      {
        line: 2,
        message:
          'the identity has " " (U+0020) at position 3; OCPP identities (identifierString) allow only a-z, A-Z, 0-9 and * - _ = : + | @ .',
      },
      { line: 3, message: 'CP-3 has neither a password nor a certificate file' },
      { line: 4, message: 'expected identity,password[,certificate file], got 4 fields' },
      { line: 5, message: 'CP-1 is already on line 1' },
      { line: 6, message: 'a quoted field is not closed' },
      { line: 7, message: 'no identity' },
    ]);
  });

  it('an import replaces the chargers it lists and keeps the others; the result reads back the same', () => {
    const current = parseRegistrations('CP-1,old-one\nCP-2,two').registrations;
    const imported = parseRegistrations('CP-1,new-one\nCP-3,"th,ree",/c.pem\nbad line here').registrations;
    const merged = mergeRegistrations(current, imported);
    assert.equal(merged, 'CP-1,new-one\nCP-2,two\nCP-3,"th,ree",/c.pem');
    const again = parseRegistrations(merged);
    assert.deepEqual(again.problems, []);
    assert.equal(formatRegistrations(again.registrations), merged);
  });

  it('puts the PEM files chosen with the CSV into the list (certificate and key on one line); a file without its key is a bad line', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN PRIVATE KEY-----\nR0hJ\n-----END PRIVATE KEY-----\n';
    const { text, accepted, problems } = importRegistrations(
      'CP-0,zero',
      'CP-1,,C:\\certs\\cp-1.pem\nCP-2,two,cp-2.pem\nCP-3,,/on/the/host.pem\nCP 4,x',
      { 'cp-1.pem': cert + key, 'cp-2.pem': cert },
    );
    assert.equal(accepted, 2);
    assert.deepEqual(problems, [
      { line: 2, message: "cp-2.pem must hold CP-2's client certificate and its private key (PEM)" },
      {
        line: 4,
        message:
          'the identity has " " (U+0020) at position 3; OCPP identities (identifierString) allow only a-z, A-Z, 0-9 and * - _ = : + | @ .',
      },
    ]);
    const lines = text.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], 'CP-0,zero');
    assert.match(
      lines[1] as string,
      /^CP-1,,"-----BEGIN CERTIFICATE----- QUJD REVG -----END CERTIFICATE----- -----BEGIN PRIVATE KEY-----/,
    );
    assert.equal(lines[2], 'CP-3,,/on/the/host.pem', 'a file not chosen stays a path on the host');
    const read = readRegistrations(lines.slice(0, 2).join('\n'), 'upstream.registrations');
    assert.deepEqual(read['CP-1'], {
      cert: '-----BEGIN CERTIFICATE-----\nQUJDREVG\n-----END CERTIFICATE-----\n',
      key: '-----BEGIN PRIVATE KEY-----\nR0hJ\n-----END PRIVATE KEY-----\n',
    });
  });
});
