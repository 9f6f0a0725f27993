import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import {
  type IdTagEntry,
  type IdTagInfo,
  IdTagList,
  type IdTagListOptions,
  isHexUid,
  LIST_VERSION_STEP,
  reverseByteOrder,
} from '../../../lib/ocpp/id-tags';
import type { SendLocalListRequest } from '../../../lib/ocpp/messages';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

function listOf(entries: IdTagEntry[], options?: IdTagListOptions): IdTagList {
  const list = new IdTagList(options);
  list.upsert(entries);
  return list;
}

/** Runs `action`, expects a ConfigError for `field` whose message matches `message`. */
function assertConfigError(action: () => unknown, field: string, message: RegExp): void {
  assert.throws(action, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

/**
 * A charger's Local Authorization List as §5.15, §7.1, §7.47 and §7.48 describe it, keyed case
 * insensitively (§7.28): Full replaces, Differential adds/updates/deletes, a Differential whose
 * listVersion is not above the current one is refused with VersionMismatch. Like a strict real
 * charger it refuses any listVersion that is not positive with Failed: errata 3.52 reserves 0 and
 * -1, and chargers may keep the version in an unsigned or "positive integer" field.
 */
class FakeCharger {
  version = 0;
  list = new Map<string, { idTag: string; idTagInfo: IdTagInfo }>();

  apply(request: SendLocalListRequest): 'Accepted' | 'Failed' | 'VersionMismatch' {
    if (!Number.isInteger(request.listVersion) || request.listVersion <= 0) return 'Failed';
    if (request.updateType === 'Differential' && request.listVersion <= this.version)
      return 'VersionMismatch';
    if (request.updateType === 'Full') this.list.clear();
    const seen = new Set<string>();
    for (const data of request.localAuthorizationList ?? []) {
      const key = data.idTag.toUpperCase();
      assert.ok(!seen.has(key), `duplicate idTag ${data.idTag} in one SendLocalList.req`);
      seen.add(key);
      if (data.idTagInfo) this.list.set(key, { idTag: data.idTag, idTagInfo: data.idTagInfo });
      else {
        assert.equal(request.updateType, 'Differential', 'Full entries need idTagInfo');
        this.list.delete(key);
      }
    }
    this.version = request.listVersion;
    return 'Accepted';
  }

  applyAll(requests: SendLocalListRequest[], max: number): void {
    for (const request of requests) {
      assert.ok(
        (request.localAuthorizationList ?? []).length <= max,
        'message longer than SendLocalListMaxLength',
      );
      assert.equal(this.apply(request), 'Accepted', `listVersion ${request.listVersion} refused`);
    }
  }

  /** What the charger stores, in the form the list should have sent. */
  contents(): { idTag: string; idTagInfo: IdTagInfo }[] {
    return [...this.list.values()].sort((a, b) => (a.idTag.toUpperCase() < b.idTag.toUpperCase() ? -1 : 1));
  }
}

/** What a charger should hold for `list`. */
function expectedContents(list: IdTagList): { idTag: string; idTagInfo: IdTagInfo }[] {
  return list.entries().map((entry) => {
    const idTagInfo: IdTagInfo = { status: entry.status };
    if (entry.expiryDate) idTagInfo.expiryDate = entry.expiryDate;
    if (entry.parentIdTag) idTagInfo.parentIdTag = entry.parentIdTag;
    return { idTag: entry.idTag, idTagInfo };
  });
}

function sync(list: IdTagList, charger: FakeCharger, max: number): SendLocalListRequest[] {
  const requests = list.localListUpdates(charger.version, max);
  charger.applyAll(requests, max);
  assert.equal(charger.version, list.version);
  assert.deepEqual(charger.contents(), expectedContents(list));
  return requests;
}

/** The listVersion of each message, to compare with the versions a test expects. */
function versionsOf(requests: SendLocalListRequest[]): [string, number][] {
  return requests.map((request) => [request.updateType, request.listVersion]);
}

function tags(prefix: string, count: number): IdTagEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    idTag: `${prefix}${index + 10}`,
    status: 'Accepted',
  }));
}

describe('IdTagList', () => {
  describe('matching a presented idTag', () => {
    const BENDER_SPELLINGS = ['0a0e9b83', '0A0E9B83', '839b0e0a', '839B0E0A'];

    it('matches all four spellings of one card from the Bender manual to one entry', () => {
      for (const stored of BENDER_SPELLINGS) {
        const list = listOf([{ idTag: stored, status: 'Accepted', note: 'Anna, facilities' }]);
        for (const presented of BENDER_SPELLINGS) {
          const { entry, idTagInfo } = list.lookup(presented, NOW);
          assert.equal(entry?.idTag, stored, `${presented} should match ${stored}`);
          assert.equal(entry?.note, 'Anna, facilities');
          assert.deepEqual(idTagInfo, { status: 'Accepted' });
        }
      }
    });

    it('stops matching other letter cases when caseInsensitive is off', () => {
      const list = listOf([{ idTag: '0A0E9B83', status: 'Accepted' }], {
        matching: { caseInsensitive: false },
      });
      assert.equal(list.lookup('0A0E9B83', NOW).entry?.idTag, '0A0E9B83');
      assert.equal(list.lookup('839B0E0A', NOW).entry?.idTag, '0A0E9B83', 'byte order still matches');
      assert.equal(list.lookup('0a0e9b83', NOW).entry, undefined);
      assert.equal(list.lookup('839b0e0a', NOW).entry, undefined);
      assert.deepEqual(list.lookup('0a0e9b83', NOW).idTagInfo, { status: 'Invalid' });
    });

    it('stops matching the reversed byte order when byteOrderVariants is off', () => {
      const list = listOf([{ idTag: '0A0E9B83', status: 'Accepted' }], {
        matching: { byteOrderVariants: false },
      });
      assert.equal(list.lookup('0a0e9b83', NOW).entry?.idTag, '0A0E9B83', 'letter case still matches');
      assert.equal(list.lookup('839B0E0A', NOW).entry, undefined);
      assert.equal(list.lookup('839b0e0a', NOW).entry, undefined);
    });

    it('never byte-reverses tags that are not hexadecimal', () => {
      // Pairwise reversal of "AB1Z" would be "1ZAB"; only hex UIDs have a byte order.
      const list = listOf([{ idTag: '1ZAB', status: 'Accepted' }]);
      assert.equal(list.lookup('AB1Z', NOW).entry, undefined);
      assert.equal(list.lookup('1zab', NOW).entry?.idTag, '1ZAB');
      // So both spellings can be separate entries.
      list.upsert([{ idTag: 'AB1Z', status: 'Blocked' }]);
      assert.equal(list.lookup('AB1Z', NOW).idTagInfo.status, 'Blocked');
      assert.equal(list.lookup('1ZAB', NOW).idTagInfo.status, 'Accepted');
    });

    it('never byte-reverses hex tags with an odd number of digits', () => {
      const list = listOf([{ idTag: '3B8E9A0', status: 'Accepted' }]);
      // Splitting "A0E9B83" into pairs from the left and reversing would give "3B8E9A0".
      assert.equal(list.lookup('A0E9B83', NOW).entry, undefined);
      list.upsert([{ idTag: 'A0E9B83', status: 'Blocked' }]);
      assert.equal(list.size, 2);
    });

    it('treats 4 to 20 hex digits in pairs as a UID', () => {
      assert.equal(isHexUid('0A0E'), true);
      assert.equal(isHexUid('0a0e9b83'), true);
      assert.equal(isHexUid('04567DAA5F3580'), true);
      assert.equal(isHexUid('0123456789abcdef0123'), true);
      assert.equal(isHexUid('0A'), false);
      assert.equal(isHexUid('0A0E9B8'), false);
      assert.equal(isHexUid('0123456789abcdef012345'), false);
      assert.equal(isHexUid('0A0E9B8G'), false);
      assert.equal(reverseByteOrder('0a0e9B83'), '839B0e0a');
    });

    it('answers Invalid for a tag it does not know', () => {
      const list = listOf([{ idTag: '0A0E9B83', status: 'Accepted' }]);
      assert.deepEqual(list.lookup('DEADBEEF', NOW), { entry: undefined, idTagInfo: { status: 'Invalid' } });
      assert.deepEqual(list.lookup('', NOW).idTagInfo, { status: 'Invalid' });
    });
  });

  describe('the idTagInfo to answer with', () => {
    it('answers Expired once expiryDate has passed, even though the entry says Accepted', () => {
      const expiryDate = '2026-06-01T12:00:00Z';
      const list = listOf([{ idTag: 'GUEST01', status: 'Accepted', expiryDate }]);
      assert.deepEqual(list.lookup('GUEST01', NOW - 1).idTagInfo, { status: 'Accepted', expiryDate });
      assert.deepEqual(list.lookup('GUEST01', NOW).idTagInfo, { status: 'Expired', expiryDate });
      assert.deepEqual(list.lookup('GUEST01', NOW + 86_400_000).idTagInfo, { status: 'Expired', expiryDate });
      assert.equal(list.get('GUEST01')?.status, 'Accepted', 'the stored entry is unchanged');
    });

    it('honours the offset of expiryDate', () => {
      // 13:00 at +01:00 is 12:00 UTC, i.e. NOW.
      const list = listOf([
        { idTag: 'GUEST02', status: 'Accepted', expiryDate: '2026-06-01T13:00:00+01:00' },
      ]);
      assert.equal(list.lookup('GUEST02', NOW - 1).idTagInfo.status, 'Accepted');
      assert.equal(list.lookup('GUEST02', NOW).idTagInfo.status, 'Expired');
    });

    it('answers Blocked and Invalid as stored, expired or not', () => {
      const list = listOf([
        { idTag: 'LOST01', status: 'Blocked', expiryDate: '2020-01-01T00:00:00Z' },
        { idTag: 'STOLEN01', status: 'Invalid' },
        { idTag: 'OLD01', status: 'Expired' },
      ]);
      assert.deepEqual(list.lookup('lost01', NOW).idTagInfo, {
        status: 'Blocked',
        expiryDate: '2020-01-01T00:00:00Z',
      });
      assert.deepEqual(list.lookup('STOLEN01', NOW).idTagInfo, { status: 'Invalid' });
      assert.deepEqual(list.lookup('OLD01', NOW).idTagInfo, { status: 'Expired' });
    });

    it('includes the parent idTag, so a group can stop each other’s transactions', () => {
      const list = listOf([
        { idTag: 'FLEET-ACME', status: 'Accepted', note: 'account card, kept in the office' },
        { idTag: '0A0E9B83', status: 'Accepted', parentIdTag: 'FLEET-ACME', priority: 10 },
        { idTag: '04567DAA5F3580', status: 'Accepted', parentIdTag: 'fleet-acme' },
      ]);
      const { entry, idTagInfo } = list.lookup('839B0E0A', NOW);
      assert.deepEqual(idTagInfo, { status: 'Accepted', parentIdTag: 'FLEET-ACME' });
      assert.equal(entry?.priority, 10);
      assert.deepEqual(list.lookup('04567daa5f3580', NOW).idTagInfo, {
        status: 'Accepted',
        parentIdTag: 'fleet-acme',
      });
      assert.deepEqual(list.lookup('FLEET-ACME', NOW).idTagInfo, { status: 'Accepted' });
    });

    it('never answers ConcurrentTx: that is the caller’s decision', () => {
      const list = listOf([{ idTag: 'BUSY01', status: 'Accepted' }]);
      assert.equal(list.lookup('BUSY01', NOW).idTagInfo.status, 'Accepted');
    });
  });

  describe('checking entries', () => {
    it('rejects two entries that one presented tag would match, naming both', () => {
      const list = listOf([{ idTag: '0A0E9B83', status: 'Accepted' }]);
      assertConfigError(
        () => list.upsert([{ idTag: '839b0e0a', status: 'Blocked' }]),
        'idTags["839b0e0a"]',
        /"0A0E9B83".*reverse byte order/,
      );
      assert.deepEqual(list.entries(), [{ idTag: '0A0E9B83', status: 'Accepted' }]);
      assertConfigError(
        () =>
          new IdTagList().replaceAll([
            { idTag: '0A0E9B83', status: 'Accepted' },
            { idTag: '839B0E0A', status: 'Accepted' },
          ]),
        'idTags["0A0E9B83"]',
        /"839B0E0A"/,
      );
    });

    it('allows both byte orders as separate entries when byte-order variants are off', () => {
      const list = listOf(
        [
          { idTag: '0A0E9B83', status: 'Accepted' },
          { idTag: '839B0E0A', status: 'Blocked' },
        ],
        { matching: { byteOrderVariants: false } },
      );
      assert.equal(list.lookup('0a0e9b83', NOW).idTagInfo.status, 'Accepted');
      assert.equal(list.lookup('839b0e0a', NOW).idTagInfo.status, 'Blocked');
    });

    it('with case-sensitive matching, rejects only byte-order twins spelled in the same case', () => {
      const options = { matching: { caseInsensitive: false } };
      const list = listOf(
        [
          { idTag: '0a0e9b83', status: 'Accepted' },
          { idTag: '839B0E0A', status: 'Blocked' },
        ],
        options,
      );
      assert.equal(list.size, 2);
      assertConfigError(
        () =>
          listOf([{ idTag: '0a0e9b83', status: 'Accepted' }], options).upsert([
            { idTag: '839b0e0a', status: 'Accepted' },
          ]),
        'idTags["839b0e0a"]',
        /"0a0e9b83"/,
      );
    });

    it('keys entries case-insensitively: a new spelling replaces the entry', () => {
      const list = listOf([{ idTag: '0a0e9b83', status: 'Accepted' }]);
      list.upsert([{ idTag: '0A0E9B83', status: 'Blocked' }]);
      assert.deepEqual(list.entries(), [{ idTag: '0A0E9B83', status: 'Blocked' }]);
      assert.deepEqual(list.get('0a0E9b83'), { idTag: '0A0E9B83', status: 'Blocked' });
      assert.equal(list.get('839B0E0A'), undefined, 'get is for editing: no byte-order variants');
    });

    it('accepts a 20-character tag', () => {
      const list = listOf([{ idTag: '0123456789ABCDEF0123', status: 'Accepted' }]);
      assert.equal(list.lookup('2301EFCDAB8967452301', NOW).entry?.idTag, '0123456789ABCDEF0123');
    });

    const badEntries: { title: string; entries: unknown[]; field: string; message: RegExp }[] = [
      {
        title: 'an empty idTag',
        entries: [{ idTag: '', status: 'Accepted' }],
        field: 'idTags[0].idTag',
        message: /empty/,
      },
      {
        title: 'a missing idTag',
        entries: [{ idTag: 'OK01', status: 'Accepted' }, { status: 'Accepted' }],
        field: 'idTags[1].idTag',
        message: /empty/,
      },
      {
        title: 'an idTag over 20 characters',
        entries: [{ idTag: '0123456789ABCDEF01234', status: 'Accepted' }],
        field: 'idTags["0123456789ABCDEF01234"].idTag',
        message: /21 characters.*at most 20/,
      },
      {
        title: 'an idTag with a trailing space',
        entries: [{ idTag: '0A0E9B83 ', status: 'Accepted' }],
        field: 'idTags["0A0E9B83 "].idTag',
        message: /space/,
      },
      {
        title: 'an unknown status',
        entries: [{ idTag: 'VAN01', status: 'Paused' }],
        field: 'idTags["VAN01"].status',
        message: /"Paused" is not a status; use one of Accepted, Blocked, Expired, Invalid/,
      },
      {
        title: 'ConcurrentTx as a stored status',
        entries: [{ idTag: 'VAN01', status: 'ConcurrentTx' }],
        field: 'idTags["VAN01"].status',
        message: /decided per transaction/,
      },
      {
        title: 'an expiryDate that is not a date',
        entries: [{ idTag: 'VAN01', status: 'Accepted', expiryDate: 'tomorrow' }],
        field: 'idTags["VAN01"].expiryDate',
        message: /"tomorrow" is not a date and time; write it like 2026-12-31T23:59:59Z/,
      },
      {
        title: 'an expiryDate on a day the month does not have',
        entries: [{ idTag: 'VAN01', status: 'Accepted', expiryDate: '2026-02-30T00:00:00Z' }],
        field: 'idTags["VAN01"].expiryDate',
        message: /not a date/,
      },
      {
        title: 'an expiryDate without a time zone',
        entries: [{ idTag: 'VAN01', status: 'Accepted', expiryDate: '2026-12-31T23:59:59' }],
        field: 'idTags["VAN01"].expiryDate',
        message: /not a date/,
      },
      {
        title: 'a parentIdTag that is not in the list',
        entries: [{ idTag: 'VAN01', status: 'Accepted', parentIdTag: 'FLEET-NOPE' }],
        field: 'idTags["VAN01"].parentIdTag',
        message: /"FLEET-NOPE" is not in the list/,
      },
      {
        title: 'a priority that is not a number',
        entries: [{ idTag: 'VAN01', status: 'Accepted', priority: 'high' }],
        field: 'idTags["VAN01"].priority',
        message: /"high" is not a number/,
      },
      {
        title: 'the same idTag twice in one change',
        entries: [
          { idTag: 'van01', status: 'Accepted' },
          { idTag: 'VAN01', status: 'Blocked' },
        ],
        field: 'idTags["VAN01"]',
        message: /listed twice.*"van01"/,
      },
    ];
    for (const { title, entries, field, message } of badEntries) {
      it(`rejects ${title}, naming the tag and the field, and changes nothing`, () => {
        const list = listOf([{ idTag: 'KEEP01', status: 'Accepted', note: 'kept' }]);
        const before = list.toJSON();
        assertConfigError(() => list.upsert(entries as IdTagEntry[]), field, message);
        assertConfigError(() => list.replaceAll(entries as IdTagEntry[]), field, message);
        assert.deepEqual(list.toJSON(), before);
      });
    }

    it('applies an upsert with one bad entry not at all', () => {
      const list = listOf([{ idTag: 'KEEP01', status: 'Accepted' }]);
      const before = list.toJSON();
      assertConfigError(
        () =>
          list.upsert([
            { idTag: 'NEW01', status: 'Accepted' },
            { idTag: 'KEEP01', status: 'Blocked' },
            { idTag: 'NEW02', status: 'Accepted', expiryDate: '31.12.2026' },
          ]),
        'idTags["NEW02"].expiryDate',
        /"31.12.2026" is not a date/,
      );
      assert.deepEqual(list.toJSON(), before);
      assert.equal(list.lookup('NEW01', NOW).entry, undefined);
    });

    it('accepts a parent added in the same change, and a tag that is its own parent', () => {
      const list = listOf([
        { idTag: 'CHILD01', status: 'Accepted', parentIdTag: 'MASTER01' },
        { idTag: 'MASTER01', status: 'Accepted', parentIdTag: 'MASTER01' },
      ]);
      assert.equal(list.lookup('CHILD01', NOW).idTagInfo.parentIdTag, 'MASTER01');
      assert.equal(list.lookup('MASTER01', NOW).idTagInfo.parentIdTag, 'MASTER01');
    });

    it('refuses to remove an unknown tag or a parent that is still in use, changing nothing', () => {
      const list = listOf([
        { idTag: 'FLEET-ACME', status: 'Accepted' },
        { idTag: 'VAN01', status: 'Accepted', parentIdTag: 'FLEET-ACME' },
        { idTag: 'VAN02', status: 'Accepted' },
      ]);
      const before = list.toJSON();
      assertConfigError(() => list.remove(['VAN02', 'VAN99']), 'idTags["VAN99"]', /not in the list/);
      assertConfigError(() => list.remove(['fleet-acme']), 'idTags["FLEET-ACME"]', /parentIdTag of "VAN01"/);
      assert.deepEqual(list.toJSON(), before);
      list.remove(['fleet-acme', 'van01']);
      assert.deepEqual(
        list.entries().map((entry) => entry.idTag),
        ['VAN02'],
      );
    });

    it('stores a clean copy: empty optional fields dropped, unknown properties ignored', () => {
      const raw = {
        idTag: 'VAN01',
        status: 'Accepted',
        expiryDate: '',
        parentIdTag: null,
        note: '',
        extra: 1,
      };
      const list = listOf([raw as unknown as IdTagEntry]);
      assert.deepEqual(list.entries(), [{ idTag: 'VAN01', status: 'Accepted' }]);
      const entry = list.get('VAN01');
      if (entry) entry.status = 'Blocked';
      assert.equal(list.get('VAN01')?.status, 'Accepted', 'callers get copies');
    });
  });

  describe('version', () => {
    it('starts at 0 and moves by LIST_VERSION_STEP (1000) only for changes a charger would store', () => {
      assert.equal(LIST_VERSION_STEP, 1000);
      const list = new IdTagList();
      assert.equal(list.version, 0);
      assert.deepEqual(list.upsert([]), { changed: false, previousVersion: 0, version: 0 });

      assert.deepEqual(
        list.upsert([
          { idTag: 'FLEET-ACME', status: 'Accepted' },
          { idTag: '0a0e9b83', status: 'Accepted', parentIdTag: 'FLEET-ACME', note: 'Anna' },
        ]),
        { changed: true, previousVersion: 0, version: 1000 },
      );
      // The same again: nothing changed.
      assert.deepEqual(
        list.upsert([{ idTag: '0a0e9b83', status: 'Accepted', parentIdTag: 'FLEET-ACME', note: 'Anna' }]),
        {
          changed: false,
          previousVersion: 1000,
          version: 1000,
        },
      );
      // Note and priority never reach a charger.
      assert.deepEqual(
        list.upsert([
          { idTag: '0a0e9b83', status: 'Accepted', parentIdTag: 'FLEET-ACME', note: 'Anna B.', priority: 5 },
        ]),
        { changed: true, previousVersion: 1000, version: 1000 },
      );
      assert.equal(list.get('0A0E9B83')?.priority, 5);
      assert.deepEqual(
        list.toJSON().history.map((step) => step.version),
        [1000],
        'a note or priority change adds no history step',
      );
      // Each of status, expiryDate, parentIdTag and the spelling of the idTag does.
      const base = { idTag: '0a0e9b83', note: 'Anna B.', priority: 5 } as const;
      const steps: IdTagEntry[] = [
        { ...base, status: 'Blocked', parentIdTag: 'FLEET-ACME' },
        { ...base, status: 'Blocked', parentIdTag: 'FLEET-ACME', expiryDate: '2027-01-01T00:00:00Z' },
        { ...base, status: 'Blocked', expiryDate: '2027-01-01T00:00:00Z' },
        { ...base, idTag: '0A0E9B83', status: 'Blocked', expiryDate: '2027-01-01T00:00:00Z' },
      ];
      steps.forEach((entry, index) => {
        assert.deepEqual(list.upsert([entry]), {
          changed: true,
          previousVersion: (index + 1) * 1000,
          version: (index + 2) * 1000,
        });
      });
      assert.equal(list.version, 5000);
      assert.deepEqual(list.remove(['0a0e9b83']), { changed: true, previousVersion: 5000, version: 6000 });
      assert.deepEqual(list.replaceAll([{ idTag: 'FLEET-ACME', status: 'Accepted' }]), {
        changed: false,
        previousVersion: 6000,
        version: 6000,
      });
      assert.deepEqual(list.replaceAll([]), { changed: true, previousVersion: 6000, version: 7000 });
      // The history steps carry the same versions.
      assert.deepEqual(
        list.toJSON().history.map((step) => step.version),
        [1000, 2000, 3000, 4000, 5000, 6000, 7000],
      );
    });

    it('counts one version step per change however many tags it touches', () => {
      const list = listOf(tags('TAG', 30));
      assert.equal(list.version, 1000);
      list.replaceAll(tags('TAG', 20));
      assert.equal(list.version, 2000);
      assert.deepEqual(
        list.toJSON().history.map((step) => [step.version, step.updates.length]),
        [
          [1000, 30],
          [2000, 10],
        ],
      );
    });
  });

  describe('local list updates (SendLocalList.req)', () => {
    /** The list as one Full update, as a charger that cannot take a Differential gets it. */
    function fullOf(list: IdTagList): SendLocalListRequest[] {
      return [
        { listVersion: list.version, updateType: 'Full', localAuthorizationList: expectedContents(list) },
      ];
    }

    it('sends nothing to an up-to-date charger, nor for a list never filled', () => {
      const list = listOf([{ idTag: 'VAN01', status: 'Accepted' }]);
      assert.deepEqual(list.localListUpdates(1000, 10), []);
      // listVersion 0 may not be sent (errata 3.52), and there is nothing to send.
      assert.deepEqual(new IdTagList().localListUpdates(0, 10), []);
      assert.deepEqual(new IdTagList().localListUpdates(7000, 10), []);
      assert.deepEqual(new IdTagList().localListUpdates(7, 10), []);
      assert.deepEqual(new IdTagList().localListUpdates(undefined, 10), []);
    });

    it('sends a Differential update when the history reaches back to the charger’s version', () => {
      const list = listOf([
        { idTag: 'FLEET-ACME', status: 'Accepted' },
        { idTag: 'VAN01', status: 'Accepted', parentIdTag: 'FLEET-ACME', note: 'never sent' },
        { idTag: 'VAN02', status: 'Accepted' },
      ]);
      list.upsert([{ idTag: 'VAN02', status: 'Blocked', priority: 9 }]);
      list.remove(['VAN01']);
      list.upsert([{ idTag: 'GUEST01', status: 'Accepted', expiryDate: '2020-01-01T00:00:00Z' }]);
      assert.equal(list.version, 4000);
      assert.deepEqual(list.localListUpdates(1000, 100), [
        {
          listVersion: 4000,
          updateType: 'Differential',
          localAuthorizationList: [
            // Stored status as a charger should keep it; the charger applies expiryDate itself.
            { idTag: 'GUEST01', idTagInfo: { status: 'Accepted', expiryDate: '2020-01-01T00:00:00Z' } },
            { idTag: 'VAN01' },
            { idTag: 'VAN02', idTagInfo: { status: 'Blocked' } },
          ],
        },
      ]);
      assert.deepEqual(list.localListUpdates(3000, 100), [
        {
          listVersion: 4000,
          updateType: 'Differential',
          localAuthorizationList: [
            { idTag: 'GUEST01', idTagInfo: { status: 'Accepted', expiryDate: '2020-01-01T00:00:00Z' } },
          ],
        },
      ]);
    });

    it('sends a Full update to a charger that is empty, unknown, too old or ahead of the list', () => {
      const list = new IdTagList({ maxHistoryVersions: 2 });
      list.upsert([{ idTag: 'FLEET-ACME', status: 'Accepted' }]);
      list.upsert([
        { idTag: 'VAN01', status: 'Accepted', parentIdTag: 'FLEET-ACME', priority: 3, note: 'x' },
      ]);
      list.upsert([{ idTag: 'VAN02', status: 'Blocked' }]);
      list.upsert([{ idTag: 'VAN02', status: 'Invalid' }]);
      assert.equal(list.version, 4000);
      const full: SendLocalListRequest[] = [
        {
          listVersion: 4000,
          updateType: 'Full',
          localAuthorizationList: [
            { idTag: 'FLEET-ACME', idTagInfo: { status: 'Accepted' } },
            { idTag: 'VAN01', idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET-ACME' } },
            { idTag: 'VAN02', idTagInfo: { status: 'Invalid' } },
          ],
        },
      ];
      assert.deepEqual(fullOf(list), full);
      for (const chargerVersion of [0, -1, undefined, 1000, 5000, 6000, 1.5, 2000.5, -1000]) {
        assert.deepEqual(list.localListUpdates(chargerVersion, 10), full, `charger at ${chargerVersion}`);
      }
      // History keeps versions 3000 and 4000, so a charger at 2000 still gets a Differential.
      assert.deepEqual(versionsOf(list.localListUpdates(2000, 10)), [['Differential', 4000]]);
    });

    it('sends a Full update to a charger holding a number between two list versions', () => {
      const list = listOf(tags('TAG', 3));
      list.upsert([{ idTag: 'TAG10', status: 'Blocked' }]);
      list.upsert([{ idTag: 'NEW01', status: 'Accepted' }]);
      assert.equal(list.version, 3000);
      // The whole versions the history reaches get Differential updates...
      assert.deepEqual(versionsOf(list.localListUpdates(1000, 10)), [['Differential', 3000]]);
      assert.deepEqual(versionsOf(list.localListUpdates(2000, 10)), [['Differential', 3000]]);
      // ...any number in between (a chunked Full update cut short) gets the whole list.
      for (const chargerVersion of [1, 2, 999, 1001, 1500, 1999, 2001, 2500, 2998, 2999, 3001, 3999]) {
        assert.deepEqual(
          list.localListUpdates(chargerVersion, 10),
          fullOf(list),
          `charger at ${chargerVersion}`,
        );
      }
      // A charger at 2999 holding a partial list ends with exactly the list.
      const charger = new FakeCharger();
      charger.version = 2999;
      charger.list.set('TAG10', { idTag: 'TAG10', idTagInfo: { status: 'Accepted' } });
      charger.list.set('GONE01', { idTag: 'GONE01', idTagInfo: { status: 'Accepted' } });
      assert.deepEqual(versionsOf(sync(list, charger, 10)), [['Full', 3000]]);
    });

    it('clears a charger with an empty Full update once the list has been emptied', () => {
      const list = listOf([{ idTag: 'VAN01', status: 'Accepted' }]);
      list.remove(['VAN01']);
      assert.deepEqual(list.localListUpdates(undefined, 10), [
        { listVersion: 2000, updateType: 'Full', localAuthorizationList: [] },
      ]);
      assert.deepEqual(list.localListUpdates(1000, 10), [
        { listVersion: 2000, updateType: 'Differential', localAuthorizationList: [{ idTag: 'VAN01' }] },
      ]);
    });

    it('chunks a large Full update into one Full and Differential updates with rising versions', () => {
      const list = listOf(tags('TAG', 5));
      const requests = list.localListUpdates(undefined, 2);
      assert.deepEqual(
        requests.map((request) => [
          request.updateType,
          request.listVersion,
          request.localAuthorizationList?.length,
        ]),
        [
          // The numbers just below the list's version, which no whole list ever had.
          ['Full', 998, 2],
          ['Differential', 999, 2],
          ['Differential', 1000, 1],
        ],
      );
      const charger = new FakeCharger();
      // The model charger refuses what the old negative placeholders were, as a real one may.
      for (const listVersion of [-3, -2, -1, 0]) {
        assert.equal(
          charger.apply({ listVersion, updateType: 'Full', localAuthorizationList: [] }),
          'Failed',
        );
      }
      charger.version = 17;
      charger.list.set('OLD', { idTag: 'OLD', idTagInfo: { status: 'Accepted' } });
      charger.applyAll(requests, 2);
      assert.equal(charger.version, 1000);
      assert.deepEqual(charger.contents(), expectedContents(list));

      // Later versions: for version 3000 and three messages, 2998, 2999, 3000.
      list.upsert([{ idTag: 'TAG10', status: 'Blocked' }]);
      list.upsert([{ idTag: 'NEW01', status: 'Accepted' }]);
      const later = list.localListUpdates(undefined, 2);
      assert.deepEqual(versionsOf(later), [
        ['Full', 2998],
        ['Differential', 2999],
        ['Differential', 3000],
      ]);
      charger.applyAll(later, 2);
      assert.equal(charger.version, 3000);
      assert.deepEqual(charger.contents(), expectedContents(list));
    });

    it('labels the chunks of a Full update with positive, strictly increasing in-between numbers', () => {
      for (const options of [{}, { maxHistoryVersions: 1 }, { maxHistoryVersions: 0 }]) {
        for (const messages of [2, 3, 7, 40]) {
          const list = new IdTagList(options);
          list.upsert(tags('TAG', messages));
          for (let step = 1; step <= 3; step++) {
            if (step > 1) list.upsert([{ idTag: 'TAG10', status: step % 2 ? 'Accepted' : 'Blocked' }]);
            const version = list.version;
            assert.equal(version, step * 1000);
            const where = `${JSON.stringify(options)}, ${messages} messages, version ${version}`;
            const requests = list.localListUpdates(undefined, 1);
            const versions = requests.map((request) => request.listVersion);
            assert.equal(requests.length, messages, where);
            assert.deepEqual(
              requests.map((request) => request.updateType),
              ['Full', ...Array.from({ length: messages - 1 }, () => 'Differential')],
              where,
            );
            assert.deepEqual(
              versions,
              Array.from({ length: messages }, (_, index) => version - messages + 1 + index),
              where,
            );
            versions.forEach((listVersion, index) => {
              assert.ok(Number.isInteger(listVersion) && listVersion > 0, `${where}: ${listVersion}`);
              if (index > 0) assert.ok(listVersion > (versions[index - 1] ?? Infinity), `${where}: rising`);
            });
            for (const inBetween of versions.slice(0, -1)) {
              // Above the previous whole version, below this one: never a version of a whole list.
              assert.ok(inBetween > version - 1000 && inBetween < version, `${where}: ${inBetween}`);
              assert.equal(
                list.localListUpdates(inBetween, 1)[0]?.updateType,
                'Full',
                `${where}: ${inBetween}`,
              );
            }
            assert.equal(versions.at(-1), version);
          }
        }
      }
    });

    it('sends up to 1000 messages for a Full update and throws a RangeError beyond', () => {
      const list = listOf(tags('TAG', 1000));
      assert.equal(list.version, 1000);
      // 999 in-between numbers fit below version 1000: 1, 2, …, 999, then 1000 itself.
      const requests = list.localListUpdates(undefined, 1);
      assert.equal(requests.length, 1000);
      assert.deepEqual(
        requests.map((request) => request.listVersion),
        Array.from({ length: 1000 }, (_, index) => index + 1),
      );
      const charger = new FakeCharger();
      sync(list, charger, 1);

      list.upsert([{ idTag: 'ONE-TOO-MANY', status: 'Accepted' }]);
      assert.equal(list.version, 2000);
      assert.throws(() => list.localListUpdates(undefined, 1), {
        name: 'RangeError',
        message: /more than 1000 SendLocalList messages; raise SendLocalListMaxLength/,
      });
      assert.throws(
        () => list.localListUpdates(1999, 1),
        RangeError,
        'an in-between version needs the Full update',
      );
      // A Differential update is not limited that way, and larger messages make the Full update fit.
      assert.deepEqual(versionsOf(sync(list, charger, 1)), [['Differential', 2000]]);
      const fitting = list.localListUpdates(undefined, 2);
      assert.equal(fitting.length, 501);
      assert.deepEqual(fitting.map((request) => request.listVersion).slice(0, 2), [1500, 1501]);
      sync(list, new FakeCharger(), 2);
    });

    it('labels the chunks the same way however little history is kept', () => {
      const list = new IdTagList({ maxHistoryVersions: 3 });
      for (let n = 1; n <= 10; n++) list.upsert(tags(`V${n}-`, 2));
      assert.equal(list.version, 10_000);
      const requests = list.localListUpdates(0, 5);
      assert.deepEqual(versionsOf(requests), [
        ['Full', 9997],
        ['Differential', 9998],
        ['Differential', 9999],
        ['Differential', 10_000],
      ]);
      // The oldest version a Differential can start from is 7000.
      assert.equal(list.localListUpdates(7000, 5)[0]?.updateType, 'Differential');
      assert.equal(list.localListUpdates(6000, 5)[0]?.updateType, 'Full');
      for (const inBetween of [9997, 9998, 9999]) {
        assert.equal(list.localListUpdates(inBetween, 5)[0]?.updateType, 'Full');
      }
      const charger = new FakeCharger();
      charger.applyAll(requests, 5);
      assert.deepEqual(charger.contents(), expectedContents(list));
    });

    it('answers a charger left half-way through a chunked Full update with a Full update again', () => {
      /** A charger in the state `charger` is in, to interrupt it in different places. */
      function copyOf(charger: FakeCharger): FakeCharger {
        const copy = new FakeCharger();
        copy.version = charger.version;
        copy.list = new Map(charger.list);
        return copy;
      }
      for (const options of [{}, { maxHistoryVersions: 1 }, { maxHistoryVersions: 0 }]) {
        const list = new IdTagList(options);
        for (let n = 1; n <= 5; n++) list.upsert(tags(`V${n}-`, 3));
        // One charger that never had the list, one that holds the whole previous version.
        const previous = new FakeCharger();
        sync(list, previous, 4);
        assert.equal(previous.version, 5000);
        list.upsert(tags('V6-', 3));
        list.remove(['V1-10']);
        assert.equal(list.version, 7000);
        const requests = list.localListUpdates(undefined, 4);
        assert.equal(requests.length, 5);
        assert.deepEqual(
          requests.map((request) => request.listVersion),
          [6996, 6997, 6998, 6999, 7000],
        );
        for (const start of [new FakeCharger(), previous]) {
          for (let applied = 1; applied < requests.length; applied++) {
            const where = `${JSON.stringify(options)}, from ${start.version}, after ${applied} message(s)`;
            const charger = copyOf(start);
            charger.applyAll(requests.slice(0, applied), 4);
            assert.equal(charger.version, 6995 + applied, where);
            const again = list.localListUpdates(charger.version, 4);
            assert.equal(again[0]?.updateType, 'Full', where);
            assert.deepEqual(again, requests, where);
            sync(list, charger, 4);

            // Cut short again, then the list moves on: the in-between number still gets a Full update.
            const later = copyOf(start);
            later.applyAll(requests.slice(0, applied), 4);
            const moved = IdTagList.fromSnapshot(list.toJSON(), options);
            moved.upsert([{ idTag: 'V6-10', status: 'Blocked' }]);
            assert.equal(moved.localListUpdates(later.version, 4)[0]?.updateType, 'Full', where);
            sync(moved, later, 4);
          }
        }
      }
    });

    it('splits a Differential update at version boundaries, each message carrying a real version', () => {
      const list = listOf(tags('TAG', 6));
      const charger = new FakeCharger();
      sync(list, charger, 10);
      list.upsert([{ idTag: 'TAG10', status: 'Blocked' }]); // 2000
      list.upsert([{ idTag: 'TAG11', status: 'Blocked' }]); // 3000
      list.upsert([
        { idTag: 'TAG10', status: 'Invalid' },
        { idTag: 'TAG12', status: 'Blocked' },
      ]); // 4000: TAG10 again, merges with step 2000
      list.remove(['TAG13', 'TAG14']); // 5000
      list.upsert([{ idTag: 'NEW01', status: 'Accepted' }]); // 6000
      const requests = list.localListUpdates(1000, 3);
      assert.deepEqual(
        requests.map((request) => [request.updateType, request.listVersion, request.localAuthorizationList]),
        [
          [
            'Differential',
            4000,
            [
              { idTag: 'TAG10', idTagInfo: { status: 'Invalid' } },
              { idTag: 'TAG11', idTagInfo: { status: 'Blocked' } },
              { idTag: 'TAG12', idTagInfo: { status: 'Blocked' } },
            ],
          ],
          [
            'Differential',
            6000,
            [{ idTag: 'NEW01', idTagInfo: { status: 'Accepted' } }, { idTag: 'TAG13' }, { idTag: 'TAG14' }],
          ],
        ],
      );
      // A charger that got only the first message is at real version 4000 and continues from there.
      const halfway = new FakeCharger();
      sync(listOf(tags('TAG', 6)), halfway, 10);
      halfway.applyAll(requests.slice(0, 1), 3);
      assert.equal(halfway.version, 4000);
      assert.deepEqual(list.localListUpdates(halfway.version, 3), requests.slice(1));
      sync(list, charger, 3);
    });

    it('sends a Full update when one change is larger than a message may be', () => {
      const list = listOf(tags('TAG', 2));
      list.upsert(tags('MORE', 4));
      // With messages of 4 the change fits in a Differential update...
      assert.deepEqual(versionsOf(list.localListUpdates(1000, 4)), [['Differential', 2000]]);
      // ...with messages of 3 it cannot be split at a version boundary, so the whole list goes.
      const requests = list.localListUpdates(1000, 3);
      assert.deepEqual(versionsOf(requests), [
        ['Full', 1999],
        ['Differential', 2000],
      ]);
      const charger = new FakeCharger();
      charger.applyAll(requests, 3);
      assert.deepEqual(charger.contents(), expectedContents(list));
    });

    it('keeps chargers in step through a long series of changes', () => {
      const list = new IdTagList({ maxHistoryVersions: 4 });
      const chargers = [new FakeCharger(), new FakeCharger(), new FakeCharger()];
      const maxes = [1, 3, 50];
      for (let n = 0; n < 12; n++) {
        list.upsert([
          { idTag: `A${n}`, status: 'Accepted' },
          {
            idTag: `B${n % 3}`,
            status: n % 2 ? 'Blocked' : 'Accepted',
            expiryDate: `2027-01-${10 + n}T00:00:00Z`,
          },
        ]);
        if (n % 4 === 3) list.remove([`A${n - 2}`]);
        // Charger i syncs every (i + 1) rounds, so some fall outside the history.
        chargers.forEach((charger, i) => {
          if (n % (i + 1) === 0) sync(list, charger, maxes[i] ?? 1);
        });
      }
      chargers.forEach((charger, i) => {
        sync(list, charger, maxes[i] ?? 1);
      });
    });

    it('rejects a message size below 1', () => {
      const list = listOf([{ idTag: 'VAN01', status: 'Accepted' }]);
      assert.throws(() => list.localListUpdates(0, 0), RangeError);
      assert.throws(() => list.localListUpdates(0, 2.5), RangeError);
    });
  });

  describe('snapshot', () => {
    function busyList(options?: IdTagListOptions): IdTagList {
      const list = new IdTagList(options);
      list.upsert([
        { idTag: 'FLEET-ACME', status: 'Accepted', note: 'account' },
        { idTag: '0A0E9B83', status: 'Accepted', parentIdTag: 'FLEET-ACME', priority: 7, note: 'Anna' },
        { idTag: 'GUEST01', status: 'Accepted', expiryDate: '2026-06-01T12:00:00Z' },
      ]);
      list.upsert([{ idTag: 'GUEST01', status: 'Blocked', expiryDate: '2026-06-01T12:00:00Z' }]);
      list.upsert(tags('TAG', 4));
      list.remove(['TAG11']);
      return list;
    }

    it('round-trips the whole list, history included, through JSON', () => {
      const list = busyList({ maxHistoryVersions: 3 });
      const text = JSON.stringify(list);
      const copy = IdTagList.fromSnapshot(JSON.parse(text), { maxHistoryVersions: 3 });
      assert.equal(JSON.stringify(copy), text);
      assert.deepEqual(copy.toJSON(), list.toJSON());
      assert.equal(copy.version, 4000);
      assert.deepEqual(
        copy.toJSON().history.map((step) => step.version),
        [2000, 3000, 4000],
      );
      for (const chargerVersion of [undefined, 0, 1, 1000, 1001, 2000, 2999, 3000, 3999, 4000]) {
        for (const max of [1, 2, 100]) {
          assert.deepEqual(
            copy.localListUpdates(chargerVersion, max),
            list.localListUpdates(chargerVersion, max),
          );
        }
      }
      for (const presented of ['839b0e0a', 'guest01', 'TAG10', 'TAG11']) {
        assert.deepEqual(copy.lookup(presented, NOW), list.lookup(presented, NOW));
      }
      // And both go on the same way.
      const change: IdTagEntry[] = [{ idTag: 'TAG12', status: 'Invalid' }];
      assert.deepEqual(copy.upsert(change), { changed: true, previousVersion: 4000, version: 5000 });
      assert.deepEqual(list.upsert(change), { changed: true, previousVersion: 4000, version: 5000 });
      assert.deepEqual(copy.toJSON(), list.toJSON());
    });

    it('trims the history to the options it is loaded with', () => {
      const snapshot = busyList().toJSON();
      assert.equal(snapshot.history.length, 4);
      const copy = IdTagList.fromSnapshot(snapshot, { maxHistoryVersions: 1 });
      assert.deepEqual(copy.toJSON().history, snapshot.history.slice(3));
      assert.equal(copy.localListUpdates(2000, 10)[0]?.updateType, 'Full');
      assert.equal(copy.localListUpdates(3000, 10)[0]?.updateType, 'Differential');
    });

    it('bounds the history by the number of updates it holds', () => {
      const list = new IdTagList({ maxHistoryUpdates: 5 });
      list.upsert(tags('TAG', 3)); // 3 updates
      list.upsert(tags('MORE', 2)); // 5 in all
      assert.equal(list.toJSON().history.length, 2);
      list.upsert([{ idTag: 'ONE', status: 'Accepted' }]); // 6: the first step goes
      assert.deepEqual(
        list.toJSON().history.map((step) => step.version),
        [2000, 3000],
      );
    });

    it('checks the entries again under the matching it is loaded with', () => {
      const snapshot = listOf(
        [
          { idTag: '0A0E9B83', status: 'Accepted' },
          { idTag: '839B0E0A', status: 'Accepted' },
        ],
        { matching: { byteOrderVariants: false } },
      ).toJSON();
      assertConfigError(() => IdTagList.fromSnapshot(snapshot), 'idTags["0A0E9B83"]', /"839B0E0A"/);
      assert.equal(IdTagList.fromSnapshot(snapshot, { matching: { byteOrderVariants: false } }).size, 2);
    });

    it('refuses something that is not a snapshot', () => {
      const good = busyList().toJSON();
      assert.equal(good.version, 4000);
      const damaged: [unknown, RegExp][] = [
        [null, /not an object/],
        [{ ...good, version: -1 }, /bad version/],
        [{ ...good, entries: 'x' }, /entries is not a list/],
        [
          { ...good, history: [...good.history, { version: 5000, updates: [{ idTag: 'X' }] }] },
          /history\[0\] should be version 0/,
        ],
        [{ ...good, history: [{ version: 4000, updates: [] }] }, /history\[0\] has no updates/],
        [
          {
            ...good,
            history: [{ version: 4000, updates: [{ idTag: 'X', idTagInfo: { status: 'Maybe' } }] }],
          },
          /history\[0\]: X has a bad status/,
        ],
        [
          { version: 0, entries: [{ idTag: 'X', status: 'Accepted' }], history: [] },
          /version 0 is the empty list/,
        ],
      ];
      for (const [snapshot, message] of damaged) {
        assert.throws(
          () => IdTagList.fromSnapshot(snapshot),
          (err: unknown) => err instanceof TypeError && message.test(err.message),
          JSON.stringify(snapshot),
        );
      }
      // Each of those single steps is fine where it is well formed.
      const oneStep = { ...good, history: [{ version: 4000, updates: [{ idTag: 'X' }] }] };
      assert.equal(IdTagList.fromSnapshot(oneStep).toJSON().history.length, 1);
    });

    it('refuses a snapshot whose history steps are not LIST_VERSION_STEP apart, ending at its version', () => {
      const good = busyList().toJSON();
      assert.deepEqual(
        good.history.map((step) => step.version),
        [1000, 2000, 3000, 4000],
      );
      const withVersions = (versions: number[], version = good.version) => ({
        ...good,
        version,
        history: good.history.map((step, index) => ({ ...step, version: versions[index] })),
      });
      const damaged: [unknown, RegExp][] = [
        // One apart, as versions once were, ending at the version.
        [withVersions([3997, 3998, 3999, 4000]), /history\[0\] should be version 1000/],
        // Spaced right but not ending at the version.
        [withVersions([2000, 3000, 4000, 5000]), /history\[0\] should be version 1000/],
        [withVersions([1000, 2000, 3000, 4000], 5000), /history\[0\] should be version 2000/],
        // One step out of line.
        [withVersions([1000, 2000, 3500, 4000]), /history\[2\] should be version 3000/],
        [withVersions([1000, 2000, 3000, 3999]), /history\[3\] should be version 4000/],
        // Steps that would reach below version 1.
        [withVersions([0, 1000, 2000, 3000], 3000), /history\[0\] should be version 0/],
      ];
      for (const [snapshot, message] of damaged) {
        assert.throws(
          () => IdTagList.fromSnapshot(snapshot),
          (err: unknown) => err instanceof TypeError && message.test(err.message),
          JSON.stringify(
            (snapshot as { history: { version: number }[] }).history.map((step) => step.version),
          ),
        );
      }
      // Steps 1000 apart ending at the version load.
      assert.equal(IdTagList.fromSnapshot(withVersions([1000, 2000, 3000, 4000])).version, 4000);
    });

    it('loads a list saved when versions moved by one, scaling its versions to steps of LIST_VERSION_STEP', () => {
      const good = busyList().toJSON();
      const old = {
        ...good,
        version: 4,
        history: good.history.map((step, index) => ({ ...step, version: index + 1 })),
      };
      const migrated = IdTagList.fromSnapshot(old);
      assert.equal(migrated.version, 4000);
      assert.deepEqual(
        migrated.toJSON().history.map((step) => step.version),
        [1000, 2000, 3000, 4000],
      );
      assert.deepEqual(migrated.entries(), IdTagList.fromSnapshot(good).entries());
      // A charger still holding an old number (3) gets the Full list once; one at 3000 a Differential.
      assert.equal(migrated.localListUpdates(3, 100)[0]?.updateType, 'Full');
      assert.equal(migrated.localListUpdates(3000, 100)[0]?.updateType, 'Differential');
      assert.ok(migrated.localListUpdates(undefined, 2).every((update) => update.listVersion > 0));
      assert.throws(
        () =>
          IdTagList.fromSnapshot({
            ...old,
            history: old.history.map((step, index) => ({ ...step, version: index + 2 })),
          }),
        /history\[0\] should be version 1/,
      );
    });
  });
});
