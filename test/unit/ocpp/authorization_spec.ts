import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { FlowRequest } from '../../../lib/ocpp/authorization';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { isoNow, useOcppHarness } from '../../support/ocpp';

const TAGS = [
  { idTag: '0A0E9B83', status: 'Accepted' as const, note: 'Ms Meier, flat 3' },
  { idTag: 'BLOCKED1', status: 'Blocked' as const },
  { idTag: 'OLDCARD', status: 'Accepted' as const, expiryDate: '2020-01-01T00:00:00Z' },
  { idTag: 'FLEET', status: 'Accepted' as const, priority: 5 },
  { idTag: 'VAN-01', status: 'Accepted' as const, parentIdTag: 'FLEET' },
  { idTag: 'DIRECTOR', status: 'Accepted' as const, priority: 9 },
];

async function authorize(client: { call(action: string, params: unknown): Promise<unknown> }, idTag: string) {
  return (
    (await client.call('Authorize', { idTag })) as { idTagInfo: { status: string; parentIdTag?: string } }
  ).idTagInfo;
}

/** A StartTransaction.req from `client`, the meter at 0, now; the answer. */
async function startTransaction(
  client: { call(action: string, params: unknown): Promise<unknown> },
  connectorId: number,
  idTag: string,
) {
  const request = { connectorId, idTag, meterStart: 0, timestamp: isoNow() };
  return (await client.call('StartTransaction', request)) as {
    transactionId: number;
    idTagInfo: { status: string };
  };
}

describe('authorization', () => {
  const harness = useOcppHarness();

  describe('by the local list', () => {
    let cs: CentralSystem;
    beforeEach(async () => {
      cs = await harness().centralSystem({ authorization: { policy: 'localList' }, idTags: TAGS });
    });

    it('accepts listed tags and answers Invalid, Blocked and Expired as the list says', async () => {
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      assert.equal((await authorize(client, '0A0E9B83')).status, 'Accepted');
      assert.equal((await authorize(client, 'STRANGER')).status, 'Invalid');
      assert.equal((await authorize(client, 'BLOCKED1')).status, 'Blocked');
      assert.equal((await authorize(client, 'OLDCARD')).status, 'Expired');
      assert.deepEqual(await authorize(client, 'VAN-01'), { status: 'Accepted', parentIdTag: 'FLEET' });
    });

    it('logs a warn line naming the badge and the charger for every refusal, none for an accepted badge', async () => {
      const { client } = await harness().bootedCharger(cs, 'PARK-01');
      await authorize(client, 'STRANGER');
      await startTransaction(client, 1, 'BLOCKED1');
      await authorize(client, '0A0E9B83');
      assert.deepEqual(
        harness()
          .log.lines.filter((line) => /^badge /.test(line.message))
          .map(({ level, message }) => `${level}: ${message}`),
        [
          'warn: badge STRANGER refused at PARK-01 (Authorize: Invalid)',
          'warn: badge BLOCKED1 refused at PARK-01 (StartTransaction: Blocked)',
        ],
      );
    });

    it('matches the spellings RFID readers produce for one card (Bender manual §5.3)', async () => {
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      for (const spelling of ['0a0e9b83', '0A0E9B83', '839b0e0a', '839B0E0A']) {
        assert.equal((await authorize(client, spelling)).status, 'Accepted', spelling);
      }
    });

    it('passes a tag’s priority (or its group’s) to the transaction on the connector', async () => {
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      await startTransaction(client, 1, 'DIRECTOR');
      await startTransaction(client, 2, 'VAN-01');
      assert.equal(cs.connectors.find('CP-1', 1)?.transaction?.priority, 9);
      assert.equal(cs.connectors.find('CP-1', 2)?.transaction?.priority, 5);
    });

    it('answers ConcurrentTx for a tag charging at another connector, but lets it stop its own session', async () => {
      const { client: a } = await harness().bootedCharger(cs, 'CP-A');
      const { client: b } = await harness().bootedCharger(cs, 'CP-B');
      await startTransaction(a, 1, '0A0E9B83');
      assert.equal((await authorize(a, '0A0E9B83')).status, 'Accepted');
      assert.equal((await authorize(b, '839b0e0a')).status, 'ConcurrentTx');
      const second = await startTransaction(b, 1, '0A0E9B83');
      assert.equal(second.idTagInfo.status, 'ConcurrentTx');
      assert.equal(cs.openTransactions().length, 2, 'the charger started it, so it is recorded');
    });
  });

  it('accepts every tag when charging is free, the fixed free-charging tag on several connectors at once', async () => {
    const cs = await harness().centralSystem({
      authorization: { policy: 'acceptAll', fixedIdTag: 'FREECHARGE' },
    });
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    assert.equal((await authorize(client, 'ANYTHING')).status, 'Accepted');
    for (const connectorId of [1, 2]) {
      const start = await startTransaction(client, connectorId, 'FREECHARGE');
      assert.equal(start.idTagInfo.status, 'Accepted');
    }
  });

  it('accepts the free-charging tag under the list policy too (remote starts use it)', async () => {
    const cs = await harness().centralSystem({ authorization: { policy: 'localList', fixedIdTag: 'FREE' } });
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    assert.equal((await authorize(client, 'free')).status, 'Accepted');
    assert.equal((await authorize(client, 'OTHER')).status, 'Invalid');
  });

  it('does not keep a badge busy after its connector went Available without a StopTransaction', async () => {
    const cs = await harness().centralSystem({
      authorization: { policy: 'acceptAll', oneTransactionPerTag: 'every' },
    });
    const { client: a } = await harness().bootedCharger(cs, 'CP-A');
    const { client: b } = await harness().bootedCharger(cs, 'CP-B');
    await startTransaction(a, 1, 'BADGE');
    assert.equal((await authorize(b, 'BADGE')).status, 'ConcurrentTx');
    await a.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    assert.equal((await authorize(b, 'BADGE')).status, 'Accepted');
    assert.equal(cs.openTransactions().length, 1, 'the ledger keeps it open until a StopTransaction comes');
  });

  for (const [title, authorization] of [
    ['oneTransactionPerTag none', { policy: 'localList', oneTransactionPerTag: 'none' }],
    ['allowConcurrentTx, the setting from before it', { policy: 'localList', allowConcurrentTx: true }],
  ] as const) {
    it(`allows one listed tag on several connectors when told to (${title})`, async () => {
      const cs = await harness().centralSystem({
        authorization,
        idTags: [{ idTag: 'FLEETCARD', status: 'Accepted' }],
      });
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      await startTransaction(client, 1, 'FLEETCARD');
      assert.equal((await authorize(client, 'FLEETCARD')).status, 'Accepted');
    });
  }

  describe('free charging with one tag for every car (Bender CC613 5.2: a unified ID)', () => {
    async function startEverywhere(cs: CentralSystem, idTag: string, chargers: number): Promise<string[]> {
      const statuses: string[] = [];
      for (let i = 1; i <= chargers; i++) {
        const { client } = await harness().bootedCharger(cs, `CP-${i}`);
        statuses.push((await authorize(client, idTag)).status);
        const start = await startTransaction(client, 1, idTag);
        statuses.push(start.idTagInfo.status);
      }
      return statuses;
    }

    it('lets five chargers charge at once on the same tag when every id tag is accepted', async () => {
      const cs = await harness().centralSystem({ authorization: { policy: 'acceptAll' } });
      assert.deepEqual(await startEverywhere(cs, 'UNIFIED', 5), Array(10).fill('Accepted'));
      assert.equal(cs.openTransactions().length, 5);
    });

    it('still holds a card marked one-at-a-time in the list (a staff card) to one car', async () => {
      const cs = await harness().centralSystem({
        authorization: { policy: 'acceptAll' },
        idTags: [
          { idTag: 'STAFF-1', status: 'Accepted', oneAtATime: true },
          { idTag: 'POOL', status: 'Accepted', oneAtATime: true },
          { idTag: 'POOL-CAR', status: 'Accepted', parentIdTag: 'POOL' },
        ],
      });
      assert.deepEqual(await startEverywhere(cs, 'STAFF-1', 2), [
        'Accepted',
        'Accepted',
        'ConcurrentTx',
        'ConcurrentTx',
      ]);
      const { client } = await harness().bootedCharger(cs, 'CP-9');
      await startTransaction(client, 1, 'POOL-CAR');
      assert.equal((await authorize(client, 'POOL-CAR')).status, 'Accepted', 'its own connector');
      const { client: other } = await harness().bootedCharger(cs, 'CP-10');
      assert.equal((await authorize(other, 'POOL-CAR')).status, 'ConcurrentTx', 'its group is one-at-a-time');
      assert.equal((await authorize(other, 'UNLISTED')).status, 'Accepted');
    });

    it('refuses a second car on any tag when told to (oneTransactionPerTag every)', async () => {
      const cs = await harness().centralSystem({
        authorization: { policy: 'acceptAll', oneTransactionPerTag: 'every' },
      });
      assert.deepEqual((await startEverywhere(cs, 'UNIFIED', 2)).slice(2), ['ConcurrentTx', 'ConcurrentTx']);
    });
  });

  describe('by the flow', () => {
    it('hands Authorize and StartTransaction to the flow and answers with its decision', async () => {
      const cs = await harness().centralSystem({ authorization: { policy: 'flow' } });
      const seen: FlowRequest[] = [];
      cs.addRequestHandler((request) => {
        seen.push(request);
        const { idTag } = request.request as { idTag: string };
        setImmediate(() =>
          cs.respond(
            request.id,
            idTag.startsWith('VIP') ? { status: 'Accepted', priority: 3 } : idTag === 'YES',
          ),
        );
        return true;
      });
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      assert.equal((await authorize(client, 'YES')).status, 'Accepted');
      assert.equal((await authorize(client, 'NO')).status, 'Invalid');
      const start = await startTransaction(client, 1, 'VIP-7');
      assert.equal(start.idTagInfo.status, 'Accepted');
      assert.equal(cs.connectors.find('CP-1', 1)?.transaction?.priority, 3);
      assert.deepEqual(
        seen.map((r) => [r.action, r.chargePointId, r.request]),
        [
          ['Authorize', 'CP-1', { idTag: 'YES' }],
          ['Authorize', 'CP-1', { idTag: 'NO' }],
          ['StartTransaction', 'CP-1', { idTag: 'VIP-7', connectorId: 1 }],
        ],
      );
    });

    it('falls back at once when no flow takes the decision', async () => {
      const clock = new ManualClock();
      const cs = await harness().centralSystem({
        clock,
        authorization: { policy: 'flow', fallback: 'localList' },
        idTags: [{ idTag: 'KNOWN', status: 'Accepted' }],
      });
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      assert.equal((await authorize(client, 'KNOWN')).status, 'Accepted');
      // The clock never moves: the fallback answered without waiting for the flow timeout.
      assert.equal((await authorize(client, 'OTHER')).status, 'Invalid');
    });

    it('answers with the fallback when the flow is too slow, and says so; a late answer is refused', async () => {
      const clock = new ManualClock();
      const cs = await harness().centralSystem({
        clock,
        authorization: { policy: 'flow', flowTimeoutMs: 4000, fallback: 'reject' },
      });
      let pending: FlowRequest | undefined;
      cs.addRequestHandler((request) => {
        pending = request;
        return true;
      });
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      const answer = authorize(client, 'SLOW');
      while (!pending) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(3999);
      clock.advance(1);
      assert.equal((await answer).status, 'Invalid');
      assert.equal(cs.respond(pending.id, true), false);
      assert.equal(
        harness().log.matching(/the flow did not answer Authorize from CP-1 within 4000 ms/, 'warn').length,
        1,
      );
    });

    it('logs an answer that is no decision and uses the fallback', async () => {
      const cs = await harness().centralSystem({ authorization: { policy: 'flow', fallback: 'acceptAll' } });
      cs.addRequestHandler((request) => {
        setImmediate(() => cs.respond(request.id, { hello: 'world' }));
        return true;
      });
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      assert.equal((await authorize(client, 'X')).status, 'Accepted');
      assert.equal(
        harness().log.matching(/the flow answered Authorize from CP-1 with \{"hello":"world"\}/, 'error')
          .length,
        1,
      );
    });
  });

  it('keeps id-tag changes made at run time across a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-tags-'));
    try {
      const first = await harness().centralSystem({ dataDirectory, authorization: { policy: 'localList' } });
      await first.idTags.upsert([{ idTag: 'NEW-TAG', status: 'Accepted', priority: 2 }]);
      await first.stop();
      const second = await harness().centralSystem({ dataDirectory, authorization: { policy: 'localList' } });
      assert.deepEqual(second.idTags.get('new-tag'), { idTag: 'NEW-TAG', status: 'Accepted', priority: 2 });
      assert.equal(second.idTags.version, 1000);
    } finally {
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });
});
