import assert from 'node:assert/strict';
import { handshakeStatus } from '../../reliability/support/security';
import { useOcppHarness } from '../../support/ocpp';

/**
 * Charge point identities are OCPP identifierStrings (a-z, A-Z, 0-9 and * - _ = : + | @ ., at most
 * 48), checked at the HTTP upgrade with real WebSocket clients; identities that differ only in case
 * are one charger in OCPP and are not let in as two.
 */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('charge point identities', () => {
  const harness = useOcppHarness();

  it('refuses an identity with a character outside identifierString with 400, naming the character and its position', async () => {
    const cs = await harness().centralSystem({ unknownChargePoints: 'accept' });
    const url = (path: string) => `ws://127.0.0.1:${cs.port}/${path}`;
    let nextAddress = 10;
    for (const [path, identity, named] of [
      ['CP-A%20', 'CP-A ', '" " (U+0020) at position 5'],
      ['CP-A%2F', 'CP-A/', '"/" (U+002F) at position 5'],
      ['C%C3%96-1', 'CÖ-1', '"Ö" (U+00D6) at position 2'],
      ['CP%0Afake', 'CP\nfake', '"\\n" (U+000A) at position 3'],
    ] as const) {
      // Each from an address of its own: a fourth failure from one address would be answered late.
      const from = { localAddress: `127.0.0.${nextAddress++}` };
      assert.equal(await handshakeStatus(url(path), from), 400, identity);
      const lines = harness().log.matching(
        new RegExp(literal(`refused charge point ${JSON.stringify(identity)} from`)),
        'warn',
      );
      assert.equal(lines.length, 1, identity);
      assert.ok(
        lines[0]?.message.includes(
          `the identity has ${named}; OCPP identities (identifierString) allow only a-z, A-Z, 0-9 and * - _ = : + | @ . (HTTP 400`,
        ),
        lines[0]?.message,
      );
    }
    assert.deepEqual(cs.openTransactions(), []);
    // Every character identifierString allows gets in (a Bender identity, and the rest of the set).
    for (const identity of ['+49*839*0000000001', 'a.b:c|d@e=f_g-H0', 'X'.repeat(48)])
      assert.equal(await handshakeStatus(url(encodeURIComponent(identity))), 101, identity);
    assert.equal(await handshakeStatus(url('X'.repeat(49)), { localAddress: '127.0.0.99' }), 400);
    assert.equal(
      harness().log.matching(/the identity is 49 characters long; OCPP allows at most 48/, 'warn').length,
      1,
    );
  });

  it('does not let an identity that differs from a known one only in case in as a second charger (409 naming it)', async () => {
    const cs = await harness().centralSystem({ unknownChargePoints: 'accept' });
    const url = (identity: string) => `ws://127.0.0.1:${cs.port}/${identity}`;
    const { client, boot } = await harness().bootedCharger(cs, 'CP-A');
    assert.equal(boot.status, 'Accepted');
    // While CP-A is connected, and after it has gone: it has a record.
    assert.equal(await handshakeStatus(url('cp-a')), 409);
    assert.equal(
      harness().log.matching(
        /refused charge point "cp-a" from 127\.0\.0\.1: differs from the charge point "CP-A" only in case/,
        'warn',
      ).length,
      1,
    );
    await client.close();
    assert.equal(await handshakeStatus(url('Cp-A')), 409);
    // CP-A itself still gets in; an identity of its own keeps its case.
    assert.equal(await handshakeStatus(url('CP-A')), 101);
    assert.equal(await handshakeStatus(url('cp-b')), 101);
    assert.deepEqual(
      cs
        .chargePoints()
        .map((c) => c.chargePointId)
        .sort(),
      ['CP-A', 'cp-b'],
    );
  });

  it('refuses the other case of a configured charger even before that charger was ever seen', async () => {
    const cs = await harness().centralSystem({
      unknownChargePoints: 'pending',
      chargePoints: { 'CP-B': {} },
    });
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/cp-b`), 409);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/CP-B`), 101);
  });

  it('lets in an identity listed in its own right, whatever the case of others', async () => {
    const cs = await harness().centralSystem({
      unknownChargePoints: 'pending',
      chargePoints: { 'CP-C': {}, 'cp-c': {} },
    });
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/cp-c`), 101);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/CP-C`), 101);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/Cp-C`), 409);
  });
});
