import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { ModbusRequestError, type RequestFailure } from '../../lib/modbus/errors';
import { MeterReadError } from '../../lib/modbus/meter';
import { meterStatus, shortFailure } from '../../nodes/modbus-status';
import type { ModbusBusNode } from '../../nodes/modbus-types';
import { type AdminRequest, type AdminResponse, adminRoute } from '../../nodes/shared/admin-routes';
import { englishText, message, useCatalog } from '../../nodes/shared/i18n';
import { onInput } from '../../nodes/shared/input';
import { nodeLogger } from '../../nodes/shared/logger';
import { listenForMeterNotice, noticeMeter } from '../../nodes/shared/meter-notices';
import { allStates, statusOf, toWord } from '../../nodes/shared/status-table';

/** A runtime without catalogs, as node-red-node-test-helper gives: `RED._` answers with the key. */
const withoutCatalogs = { _: (id: string) => id } as unknown as NodeAPI;

describe('nodes glue kit (nodes/shared)', () => {
  describe('status table', () => {
    it('has an English text for every state of every node type', () => {
      const missing = allStates().filter(({ type, state }) => !englishText(type, `${type}.status.${state}`));
      assert.deepEqual(missing, []);
    });

    it('keeps every fixed text under 20 characters, as Node-RED asks', () => {
      const long = allStates()
        .map(({ type, state }) => englishText(type, `${type}.status.${state}`) ?? '')
        .filter((text) => !text.includes('__') && text.length >= 20);
      assert.deepEqual(long, []);
    });

    it('fills the values into the English text where the runtime has no catalog', () => {
      useCatalog(withoutCatalogs, 'ampflow-dlm');
      assert.deepEqual(statusOf('ampflow-dlm', 'charging', { charging: 2, amps: 32 }), {
        fill: 'green',
        shape: 'dot',
        text: '2 charging, 32 A',
      });
    });

    it("asks the owner type's catalog in the runtime's language", () => {
      const asked: [string, unknown][] = [];
      useCatalog(
        {
          _: (id: string, values?: Record<string, string | number>) => {
            asked.push([id, values]);
            return `${values?.connected} verbunden`;
          },
        } as unknown as NodeAPI,
        'ampflow-central-system',
      );
      try {
        assert.deepEqual(statusOf('ampflow-central-system', 'connected', { connected: 3 }), {
          fill: 'green',
          shape: 'dot',
          text: '3 verbunden',
        });
        assert.deepEqual(asked, [['ampflow-central-system.status.connected', { connected: 3 }]]);
      } finally {
        useCatalog(withoutCatalogs, 'ampflow-central-system');
      }
    });

    it('names every cause of a failed meter read as the meter status showed it', () => {
      const failures: Record<RequestFailure, string> = {
        timeout: 'timeout',
        exception: 'exception 2',
        corrupt: 'bad answer',
        disconnected: 'disconnected',
        'not-connected': 'not connected',
        'queue-full': 'queue full',
        'queue-timeout': 'bus overloaded',
        'unit-backed-off': 'not answering',
        closed: 'closed',
      };
      const request = { unitId: 1, functionCode: 3 as const, address: 0, quantity: 2 };
      for (const [failure, text] of Object.entries(failures)) {
        const cause = new ModbusRequestError(failure as RequestFailure, 'bus', request, 'detail', 2);
        assert.equal(shortFailure(new MeterReadError('m', 1, 'bus', [], cause)), text);
      }
      assert.equal(shortFailure(new MeterReadError('m', 1, 'bus', [], new Error('decode'))), 'read failed');
      assert.equal(shortFailure(undefined), undefined);
    });

    /** Each placeholder of a status text filled with a value as long as it gets. */
    const LONG_VALUES = {
      action: 'GetCompositeSchedule',
      answer: 'RebootRequired',
      amps: 1000,
      charging: 120,
      stale: 12,
      total: 1000,
      available: 1000,
      connected: 1000,
      count: 120,
      bus: 'reconnecting',
      power: '-13.55 kW',
      reading: '-13.55 kW',
      failure: 'not answering',
    };

    /** Statuses in `lang` as a runtime with that language's catalogs gives them. */
    function inLanguage<T>(lang: 'en-US' | 'de', run: () => T): T {
      const types = [...new Set(allStates().map(({ type }) => type))];
      for (const type of types) {
        const catalog = JSON.parse(
          readFileSync(join(__dirname, '../../nodes/locales', lang, `${type}.json`), 'utf8'),
        ) as Record<string, unknown>;
        const translate = (id: string, values?: Record<string, string | number>) => {
          let entry: unknown = catalog;
          for (const part of id.split('.')) entry = (entry as Record<string, unknown> | undefined)?.[part];
          return typeof entry === 'string'
            ? entry.replace(/__(\w+)__/g, (all, name: string) => String(values?.[name] ?? all))
            : id;
        };
        useCatalog({ _: translate } as unknown as NodeAPI, type);
      }
      try {
        return run();
      } finally {
        for (const type of types) useCatalog(withoutCatalogs, type);
      }
    }

    for (const lang of ['en-US', 'de'] as const) {
      it(`keeps every status in ${lang} under 20 characters, ending on a whole word`, () => {
        const cutMidWord = inLanguage(lang, () =>
          allStates().flatMap(({ type, state }) => {
            const text = statusOf(type, state as never, LONG_VALUES).text ?? '';
            const full = new Set(
              [
                `status.${state}`,
                ...allStates()
                  .filter((s) => s.type === type)
                  .map((s) => `status.${s.state}`),
              ]
                .map((key) => message(type, key, LONG_VALUES))
                .flatMap((each) => each.split(' ')),
            );
            const words = text.replace(/…$/, '').split(' ');
            const whole = words.every((word, i) =>
              i === words.length - 1
                ? [...full].some((w) => w.replace(/[,:;]$/, '') === word.replace(/[,:;]$/, ''))
                : full.has(word),
            );
            return text.length < 20 && whole ? [] : [`${type}.${state}: ${text}`];
          }),
        );
        assert.deepEqual(cutMidWord, []);
      });
    }

    it('gives an action too long for the status what the charger answered (en, de)', () => {
      const long = { action: 'ChangeAvailability', answer: 'Scheduled' };
      assert.equal(statusOf('ampflow-ocpp-command', 'answered', long).text, 'Scheduled');
      assert.deepEqual(
        inLanguage('en-US', () => [
          statusOf('ampflow-ocpp-command', 'done', { action: 'ListConnectors' }).text,
          statusOf('ampflow-ocpp-command', 'failed', { action: 'ListConnectors' }).text,
          statusOf('ampflow-ocpp-command', 'done', { action: 'Reset' }).text,
        ]),
        ['done', 'failed', 'Reset: done'],
      );
      assert.deepEqual(
        inLanguage('de', () => [
          statusOf('ampflow-ocpp-command', 'done', { action: 'ListConnectors' }).text,
          statusOf('ampflow-ocpp-command', 'answered', long).text,
          statusOf('ampflow-ocpp-command', 'failed', { action: 'Reset' }).text,
        ]),
        ['erledigt', 'Scheduled', 'Reset: Fehler'],
      );
      assert.deepEqual(
        [
          statusOf('ampflow-ocpp-command', 'answered', long).fill,
          statusOf('ampflow-ocpp-command', 'answered', long).shape,
        ],
        ['green', 'dot'],
      );
    });

    it('ends a long text on its last whole word', () => {
      assert.equal(toWord('not answering since the bus closed'), 'not answering…');
      assert.equal(toWord('Supercalifragilisticexpialidocious'), 'Supercalifragilist…');
    });
  });

  describe('onInput', () => {
    /** A node as far as onInput uses it, with what it reported. */
    function fakeNode() {
      const node = new EventEmitter() as EventEmitter & { errors: unknown[][]; sent: unknown[] };
      node.errors = [];
      node.sent = [];
      Object.assign(node, {
        error: (...args: unknown[]) => node.errors.push(args),
        send: (msg: unknown) => node.sent.push(msg),
      });
      return node;
    }
    const msg = { _msgid: '1', payload: 5 } as NodeMessageInFlow;
    const settled = () => new Promise((resolve) => setImmediate(resolve));

    it('calls done() once a synchronous or asynchronous handler returns', async () => {
      for (const handler of [() => {}, async () => {}]) {
        const node = fakeNode();
        const done: unknown[][] = [];
        onInput(node as unknown as Node, handler);
        node.emit(
          'input',
          msg,
          () => {},
          (...args: unknown[]) => done.push(args),
        );
        await settled();
        assert.deepEqual(done, [[undefined]]);
      }
    });

    it('hands what a handler throws or rejects with to done(err), as an Error', async () => {
      const handlers = [
        () => {
          throw new Error('thrown');
        },
        async () => {
          throw new Error('rejected');
        },
        () => Promise.reject('not an Error'),
      ];
      const messages: string[] = [];
      for (const handler of handlers) {
        const node = fakeNode();
        onInput(node as unknown as Node, handler);
        node.emit(
          'input',
          msg,
          () => {},
          (err?: Error) => messages.push(err?.message ?? 'no error'),
        );
        await settled();
      }
      assert.deepEqual(messages, ['thrown', 'rejected', 'not an Error']);
    });

    it('reports to node.error(err, msg) and sends through the node where Node-RED passes no done', async () => {
      const node = fakeNode();
      onInput(node as unknown as Node, async (received, send) => {
        send({ payload: received.payload });
        throw new Error('late');
      });
      node.emit('input', msg);
      await settled();
      assert.deepEqual(node.sent, [{ payload: 5 }]);
      const [[err, withMsg] = []] = node.errors;
      assert.equal(node.errors.length, 1);
      assert.equal((err as Error | undefined)?.message, 'late');
      assert.equal(withMsg, msg);
    });
  });

  it("nodeLogger writes lib's log lines to the node's log, warn and error", () => {
    const lines: string[] = [];
    const node = {
      log: (m: string) => lines.push(`log ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    } as unknown as Node;
    const logger = nodeLogger(node);
    logger.info('a');
    logger.warn('b');
    logger.error('c');
    assert.deepEqual(lines, ['log a', 'warn b', 'error c']);
  });

  describe('adminRoute', () => {
    /** Registers one route on a fake RED and returns what was registered and a way to call it. */
    function register(handle: (req: AdminRequest, res: AdminResponse) => unknown) {
      const registered: unknown[][] = [];
      const logged: string[] = [];
      const RED = {
        httpAdmin: { get: (...args: unknown[]) => registered.push(['get', ...args]) },
        auth: { needsPermission: (permission: string) => `needs ${permission}` },
        log: { error: (line: string) => logged.push(line) },
      } as unknown as NodeAPI;
      adminRoute(RED, {
        method: 'get',
        path: '/ampflow-meter/test',
        permission: 'ampflow-meter.read',
        handle,
      });
      const answers: unknown[] = [];
      const res = {
        status: (code: number) => {
          answers.push(code);
          return res;
        },
        json: (body: unknown) => answers.push(body),
      } as unknown as AdminResponse;
      const handler = registered[0]?.[3] as (req: AdminRequest, res: AdminResponse) => void;
      return {
        registered,
        call: () => handler({ params: {}, query: {}, body: undefined }, res),
        answers,
        logged,
      };
    }

    it("puts every route behind its node type's permission", () => {
      const { registered } = register((_req, res) => res.json('ok'));
      assert.deepEqual(registered[0]?.slice(0, 3), [
        'get',
        '/ampflow-meter/test',
        'needs ampflow-meter.read',
      ]);
    });

    it('answers 500 with the error when an asynchronous answer fails', async () => {
      const { call, answers, logged } = register(async () => {
        throw new Error('no serial ports');
      });
      call();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(answers, [500, { error: 'no serial ports' }]);
      assert.deepEqual(logged, ['GET /ampflow-meter/test failed: no serial ports']);
    });

    it('answers 500 and logs it when an answer throws at once, instead of leaving it to Express', () => {
      const { call, answers, logged } = register(() => {
        throw new URIError('URI malformed');
      });
      call();
      assert.deepEqual(answers, [500, { error: 'URI malformed' }]);
      assert.deepEqual(logged, ['GET /ampflow-meter/test failed: URI malformed']);
    });
  });
});

describe('meter notices (nodes/shared/meter-notices): a load manager tells a meter node it is not believed', () => {
  it('reaches the meter node of that name, at once and when it changes, until it stops listening', () => {
    const heard: (string | undefined)[] = [];
    noticeMeter(
      'zone-meter',
      'meter "zone-meter" of zone reads 0.0 A on L1 while the chargers below draw 32.0 A',
    );
    const stop = listenForMeterNotice('zone-meter', (notice) => heard.push(notice));
    noticeMeter('other-meter', 'not this one');
    noticeMeter('zone-meter', undefined);
    noticeMeter('zone-meter', undefined);
    stop();
    noticeMeter('zone-meter', 'after it stopped listening');
    noticeMeter('zone-meter', undefined);
    noticeMeter('other-meter', undefined);
    assert.deepEqual(heard, [
      'meter "zone-meter" of zone reads 0.0 A on L1 while the chargers below draw 32.0 A',
      undefined,
    ]);
  });

  it('shows on the meter node as an implausible reading while it reads, and as stale once it does not', () => {
    const busNode = { bus: { state: 'connected' } } as unknown as ModbusBusNode;
    const implausible = 'meter "m" of zone reads -12.0 A on L2 where nothing can export';
    assert.equal(
      meterStatus(busNode, { state: 'ok', stale: false, implausible }).text,
      'implausible reading',
    );
    assert.equal(meterStatus(busNode, { state: 'ok', stale: true, implausible }).text, 'stale');
    assert.equal(meterStatus(busNode, { state: 'ok', stale: false, totalPowerW: 950 }).text, '950 W');
  });
});
