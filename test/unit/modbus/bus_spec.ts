import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../../lib/clock';
import { type BusOptions, ModbusBus } from '../../../lib/modbus/bus';
import type { ModbusRequestError, ReadRequest } from '../../../lib/modbus/errors';
import { FakeConnector, flush } from './harness';

const TCP = { kind: 'tcp', host: '127.0.0.1', port: 502 } as const;

interface Outcome {
  registers?: number[];
  error?: ModbusRequestError;
}

/** Starts a read and records how it ends, so tests can look without awaiting. */
function track(promise: Promise<number[]>): Outcome & { settled: () => boolean; count: number } {
  const outcome: Outcome & { settled: () => boolean; count: number } = {
    count: 0,
    settled: () => outcome.count > 0,
  };
  promise.then(
    (registers) => {
      outcome.registers = registers;
      outcome.count += 1;
    },
    (error: ModbusRequestError) => {
      outcome.error = error;
      outcome.count += 1;
    },
  );
  return outcome;
}

const read = (unitId: number, address = 0, quantity = 2): ReadRequest => ({
  unitId,
  functionCode: 3,
  address,
  quantity,
});

describe('Modbus bus queue', () => {
  let clock: ManualClock;
  let connector: FakeConnector;
  let bus: ModbusBus;

  const makeBus = (options: Partial<BusOptions> = {}) => {
    bus = new ModbusBus({ name: 'test bus', transport: TCP, clock, connector, ...options });
    return bus;
  };

  beforeEach(() => {
    clock = new ManualClock();
    connector = new FakeConnector();
  });

  afterEach(async () => {
    await bus?.close();
  });

  it('sends one request at a time, in order, with the unit id of each', async () => {
    makeBus();
    const a = track(bus.read(read(1)));
    const b = track(bus.read(read(2)));
    const c = track(bus.read(read(3)));
    await flush();
    assert.deepEqual(
      connector.pending.map((p) => p.unitId),
      [1],
    );
    connector.pending[0]?.answer();
    await flush();
    assert.deepEqual(
      connector.pending.map((p) => p.unitId),
      [2],
    );
    connector.pending[0]?.answer();
    await flush();
    connector.pending[0]?.answer();
    await flush();
    assert.deepEqual(
      [a.registers, b.registers, c.registers],
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
  });

  it('coalesces a newer poll of the same block into the waiting one: both callers get the answer', async () => {
    makeBus();
    const first = track(bus.read(read(1, 0)));
    const older = track(bus.read(read(2, 10)));
    const other = track(bus.read(read(2, 20)));
    const newer = track(bus.read(read(2, 10)));
    await flush();
    assert.equal(bus.queueLength, 2);
    assert.equal(bus.stats.coalesced, 1);
    for (let i = 0; i < 3; i++) {
      connector.pending[0]?.answer([i, i]);
      await flush();
    }
    assert.deepEqual(first.registers, [0, 0]);
    assert.deepEqual(older.registers, [1, 1]);
    assert.deepEqual(newer.registers, [1, 1]);
    assert.deepEqual(other.registers, [2, 2]);
    assert.equal(bus.stats.sent, 3);
  });

  it('refuses requests beyond its bound at once, saying why, and keeps serving the rest', async () => {
    makeBus({ maxQueueLength: 2 });
    const inFlight = track(bus.read(read(1, 0)));
    await flush();
    const queued = [track(bus.read(read(1, 2))), track(bus.read(read(1, 4)))];
    const refused = track(bus.read(read(1, 6)));
    await flush();
    assert.equal(refused.error?.failure, 'queue-full');
    assert.match(refused.error?.message ?? '', /bus "test bus" unit 1: FC3 6-7: the queue is full/);
    for (let i = 0; i < 3; i++) {
      connector.pending[0]?.answer();
      await flush();
    }
    assert.ok(inFlight.registers && queued.every((q) => q.registers));
  });

  it('times out a silent unit and counts it against that unit only; others are served meanwhile', async () => {
    makeBus({ timeoutMs: 1000, interFrameDelayMs: 0 });
    const dead = track(bus.read(read(4)));
    const live = track(bus.read(read(1)));
    await flush();
    assert.equal(connector.pending[0]?.unitId, 4);
    clock.advance(999);
    await flush();
    assert.equal(dead.settled(), false);
    clock.advance(1);
    await flush();
    assert.equal(dead.error?.failure, 'timeout');
    assert.match(dead.error?.message ?? '', /unit 4: FC3 0-1: no answer within 1000 ms/);
    assert.equal(bus.unitHealth(4).consecutiveFailures, 1);
    assert.equal(bus.unitHealth(1).consecutiveFailures, 0);
    assert.equal(connector.latest?.unitId, 1);
    connector.latest?.answer();
    await flush();
    assert.ok(live.registers);
    assert.equal(connector.connects, 1, 'a timeout does not reconnect');
  });

  it('backs a failing unit off on its own, doubling, and lets it back in when it answers', async () => {
    makeBus({ timeoutMs: 100, unitBackoff: { afterFailures: 2, initialMs: 1000, maxMs: 4000 } });
    const timeOut = async () => {
      const outcome = track(bus.read(read(4)));
      await flush();
      clock.advance(100);
      await flush();
      return outcome;
    };
    await timeOut();
    const second = await timeOut();
    assert.equal(second.error?.failure, 'timeout');
    assert.equal(bus.unitHealth(4).backedOffUntilMs, clock.now() + 1000);
    const refused = track(bus.read(read(4)));
    const other = track(bus.read(read(5)));
    await flush();
    assert.equal(refused.error?.failure, 'unit-backed-off');
    assert.match(
      refused.error?.message ?? '',
      /unit not answering \(2 failures in a row; last: no answer within 100 ms\); next try in 1 s/,
    );
    connector.latest?.answer();
    await flush();
    assert.ok(other.registers, 'other units keep being served');
    clock.advance(1000);
    await timeOut();
    assert.equal(bus.unitHealth(4).backedOffUntilMs, clock.now() + 2000, 'doubled');
    clock.advance(2000);
    const back = track(bus.read(read(4)));
    await flush();
    connector.latest?.answer();
    await flush();
    assert.ok(back.registers);
    assert.deepEqual(bus.unitHealth(4), { consecutiveFailures: 0, backedOffUntilMs: 0 });
  });

  it('fails requests already queued for a unit the moment it is backed off', async () => {
    makeBus({ timeoutMs: 100, unitBackoff: { afterFailures: 1 } });
    const first = track(bus.read(read(4, 0)));
    const second = track(bus.read(read(4, 10)));
    const other = track(bus.read(read(5, 0)));
    await flush();
    clock.advance(100);
    await flush();
    assert.equal(first.error?.failure, 'timeout');
    assert.equal(second.error?.failure, 'unit-backed-off');
    assert.equal(other.settled(), false);
    assert.equal(connector.latest?.unitId, 5);
  });

  it("tells exceptions from silence: an exception is the request's problem, not the unit's", async () => {
    makeBus();
    const outcome = track(bus.read(read(2, 3027, 34)));
    await flush();
    connector.pending[0]?.fail(Object.assign(new Error('Modbus exception 2'), { modbusCode: 2 }));
    await flush();
    assert.equal(outcome.error?.failure, 'exception');
    assert.equal(outcome.error?.exceptionCode, 2);
    assert.match(outcome.error?.message ?? '', /unit 2: FC3 3027-3060: exception 2 \(illegal data address\)/);
    assert.equal(bus.unitHealth(3).consecutiveFailures, 0);
    const gateway = track(bus.read(read(3)));
    await flush();
    connector.pending[0]?.fail(Object.assign(new Error('Modbus exception 11'), { modbusCode: 11 }));
    await flush();
    assert.match(gateway.error?.message ?? '', /gateway target did not respond/);
    assert.equal(bus.unitHealth(3).consecutiveFailures, 1, 'a gateway timeout counts like a timeout');
    const crc = track(bus.read(read(3)));
    await flush();
    connector.pending[0]?.fail(new Error('CRC error'));
    await flush();
    assert.equal(crc.error?.failure, 'corrupt');
    assert.match(crc.error?.message ?? '', /unusable answer: CRC error/);
  });

  it('reconnects after the connection breaks, with growing delays, and re-sends the request that was on the wire', async () => {
    makeBus({ reconnect: { initialMs: 250, maxMs: 1000 } });
    const onWire = track(bus.read(read(1, 0)));
    const waiting = track(bus.read(read(1, 10)));
    await flush();
    assert.equal(connector.pending.length, 1);
    connector.refuse = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    connector.drop();
    await flush();
    assert.equal(bus.state, 'waiting');
    assert.equal(onWire.settled(), false, 'nothing is lost');
    const attemptsAt: number[] = [];
    bus.on('state', (state: string) => {
      if (state === 'connecting') attemptsAt.push(clock.now());
    });
    const start = clock.now();
    for (let i = 0; i < 60; i++) {
      clock.advance(50);
      await flush();
    }
    assert.deepEqual(
      attemptsAt.map((at) => at - start),
      [250, 750, 1750, 2750],
      'delays doubling from 250 ms, capped at 1 s',
    );
    connector.refuse = undefined;
    clock.advance(1000);
    await flush();
    assert.equal(bus.state, 'connected');
    assert.deepEqual(
      connector.pending.map((p) => p.address),
      [0],
      'the interrupted request goes first',
    );
    connector.pending[0]?.answer([7, 7]);
    await flush();
    connector.pending[0]?.answer([8, 8]);
    await flush();
    assert.deepEqual(onWire.registers, [7, 7]);
    assert.deepEqual(waiting.registers, [8, 8]);
    assert.equal(onWire.count, 1, 'answered once, not twice');
  });

  /** A log that keeps each line with its level. */
  const levelled = (lines: string[]) => ({
    info: (line: string) => lines.push(`info: ${line}`),
    warn: (line: string) => lines.push(`warn: ${line}`),
    error: (line: string) => lines.push(`error: ${line}`),
  });

  it('logs a flapping start-up once as information, and "connected" once a device answers', async () => {
    const lines: string[] = [];
    makeBus({ log: levelled(lines), reconnect: { initialMs: 100, maxMs: 100 } });
    bus.open();
    for (let i = 0; i < 5; i++) {
      await flush();
      connector.drop();
      clock.advance(100);
    }
    await flush();
    const outcome = track(bus.read(read(1)));
    await flush();
    connector.latest?.answer();
    await flush();
    assert.ok(outcome.registers);
    assert.deepEqual(lines, [
      'info: modbus bus "test bus": connection to tcp://127.0.0.1:502 lost: closed by the test; reconnecting (a warning follows if it fails for 30 s)',
      'info: modbus bus "test bus": connected to tcp://127.0.0.1:502',
    ]);
  });

  it('warns once when a working connection fails, however often it retries, and logs its recovery as information (issue 38)', async () => {
    const lines: string[] = [];
    makeBus({ log: levelled(lines), reconnect: { initialMs: 100, maxMs: 100 } });
    bus.open();
    await flush();
    const first = track(bus.read(read(1)));
    await flush();
    connector.latest?.answer();
    await flush();
    assert.ok(first.registers);
    connector.refuse = new Error('connect ECONNREFUSED');
    connector.drop();
    for (let i = 0; i < 5; i++) {
      await flush();
      clock.advance(100);
    }
    connector.refuse = undefined;
    const again = track(bus.read(read(1)));
    for (let i = 0; i < 10 && !connector.latest; i++) {
      clock.advance(100);
      await flush();
    }
    connector.latest?.answer();
    await flush();
    assert.ok(again.registers, bus.state);
    assert.deepEqual(lines, [
      'info: modbus bus "test bus": connected to tcp://127.0.0.1:502',
      'warn: modbus bus "test bus": connection to tcp://127.0.0.1:502 lost: closed by the test; reconnecting',
      'info: modbus bus "test bus": connected to tcp://127.0.0.1:502',
    ]);
  });

  it('warns once when a bus has not connected 30 s after it started (a dead meter at start-up, issue 38)', async () => {
    const lines: string[] = [];
    connector.refuse = new Error('connect ECONNREFUSED 127.0.0.1:502');
    makeBus({ log: levelled(lines), reconnect: { initialMs: 1000, maxMs: 1000 } });
    bus.open();
    for (let i = 0; i < 40; i++) {
      await flush();
      clock.advance(1000);
    }
    await flush();
    assert.deepEqual(lines, [
      'info: modbus bus "test bus": cannot connect to tcp://127.0.0.1:502: connect ECONNREFUSED 127.0.0.1:502; retrying (a warning follows if it fails for 30 s)',
      'warn: modbus bus "test bus": cannot connect to tcp://127.0.0.1:502: connect ECONNREFUSED 127.0.0.1:502; retrying (failing since it started, 30 s)',
    ]);
  });

  it('reopens a TCP connection on which nothing at all arrived for a long time (a half-open socket)', async () => {
    makeBus({ timeoutMs: 1000, silentConnectionMs: 5000, unitBackoff: { afterFailures: 100 } });
    for (let i = 0; i < 5; i++) {
      const outcome = track(bus.read(read(1 + (i % 3))));
      await flush();
      clock.advance(1000);
      await flush();
      assert.equal(outcome.error?.failure, 'timeout');
    }
    assert.equal(bus.stats.connectionsLost, 1);
    assert.match(bus.lastError?.message ?? '', /nothing received for 5 s/);
  });

  it('never reopens a serial port because devices are silent', async () => {
    bus = new ModbusBus({
      name: 'rs485',
      transport: { kind: 'rtu', path: '/dev/null', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
      clock,
      connector,
      timeoutMs: 1000,
    });
    for (let i = 0; i < 70; i++) {
      track(bus.read(read(1 + (i % 3))));
      await flush();
      clock.advance(1000);
      await flush();
    }
    assert.equal(bus.stats.connectionsLost, 0);
  });

  it('bounds the wait: requests fail when the bus stays down, naming the connection problem', async () => {
    connector.refuse = new Error('connect ECONNREFUSED 127.0.0.1:502');
    makeBus({ maxWaitMs: 5000 });
    const outcome = track(bus.read(read(1)));
    await flush();
    clock.advance(4999);
    await flush();
    assert.equal(outcome.settled(), false);
    clock.advance(1);
    await flush();
    assert.equal(outcome.error?.failure, 'not-connected');
    assert.match(
      outcome.error?.message ?? '',
      /not connected \(connect ECONNREFUSED 127.0.0.1:502\); waited 5000 ms/,
    );
  });

  it('times out a connect that hangs and tries again', async () => {
    connector.holdConnects = true;
    makeBus({ connectTimeoutMs: 2000, reconnect: { initialMs: 100 } });
    bus.open();
    await flush();
    assert.equal(bus.state, 'connecting');
    clock.advance(2000);
    await flush();
    assert.equal(bus.state, 'waiting');
    assert.match(bus.lastError?.message ?? '', /no connection to tcp:\/\/127.0.0.1:502 within 2000 ms/);
    connector.holdConnects = false;
    connector.allowConnect();
    clock.advance(100);
    await flush();
    assert.equal(bus.state, 'connected');
  });

  it("keeps the inter-frame delay and each device's pause after connecting", async () => {
    makeBus({ interFrameDelayMs: 50, pauseAfterConnectMs: 0 });
    const slow = track(bus.read({ ...read(9), pauseAfterConnectMs: 1000 }));
    const fast = track(bus.read(read(1)));
    await flush();
    assert.deepEqual(
      connector.pending.map((p) => p.unitId),
      [1],
      'the slow gateway device waits; the other goes first',
    );
    connector.pending[0]?.answer();
    await flush();
    clock.advance(999);
    await flush();
    assert.equal(connector.pending.length, 0);
    clock.advance(1);
    await flush();
    assert.equal(connector.pending[0]?.unitId, 9);
    connector.pending[0]?.answer();
    const next = track(bus.read(read(1)));
    await flush();
    assert.equal(connector.pending.length, 0, 'silence after an answer');
    clock.advance(50);
    await flush();
    assert.equal(connector.pending.length, 1);
    connector.pending[0]?.answer();
    await flush();
    assert.ok(slow.registers && fast.registers && next.registers);
  });

  it('ignores an answer that comes after its request timed out', async () => {
    makeBus({ timeoutMs: 100 });
    const late = track(bus.read(read(1, 0)));
    await flush();
    const stale = connector.pending[0];
    clock.advance(100);
    const next = track(bus.read(read(1, 10)));
    await flush();
    stale?.answer([1, 1]);
    await flush();
    assert.equal(late.error?.failure, 'timeout');
    assert.equal(next.settled(), false);
    connector.pending.find((p) => p.address === 10)?.answer([2, 2]);
    await flush();
    assert.deepEqual(next.registers, [2, 2]);
  });

  describe('after a timeout on RTU framing (no transaction ids)', () => {
    const RTU = {
      kind: 'rtu',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
    } as const;
    const sentAt: number[] = [];
    const start = () => clock.now();

    const makeLine = (options: Partial<BusOptions> = {}) => {
      connector.clock = clock;
      sentAt.splice(0);
      makeBus({ transport: RTU, timeoutMs: 1000, interFrameDelayMs: 10, ...options });
      bus.on('sent', () => sentAt.push(clock.now()));
      return bus;
    };

    it('keeps the line quiet until it has been silent for the drain time, then discards what came and sends', async () => {
      makeLine();
      const t0 = start();
      const lateOne = track(bus.read(read(1, 0)));
      const next = track(bus.read(read(1, 100)));
      await flush();
      clock.advance(1000);
      await flush();
      assert.equal(lateOne.error?.failure, 'timeout');
      // The late answer arrives half a second after the timeout: silence is counted from there.
      clock.advance(500);
      connector.receive();
      await flush();
      clock.advance(999);
      await flush();
      assert.deepEqual(
        sentAt.map((at) => at - t0),
        [0],
        'nothing sent while the line may still carry the late answer',
      );
      const discardsBefore = connector.discards.length;
      clock.advance(1);
      await flush();
      assert.deepEqual(
        sentAt.map((at) => at - t0),
        [0, 2500],
      );
      assert.ok(connector.discards.length > discardsBefore, 'input discarded before the next request');
      assert.equal(connector.discards.at(-1), t0 + 2500);
      connector.latest?.answer([5, 5]);
      await flush();
      assert.deepEqual(next.registers, [5, 5]);
      assert.equal(bus.stats.drains, 1);
    });

    it('drains for the timed-out request’s own timeout, at least 250 ms; the option overrides; 0 turns it off', async () => {
      const silenceAfterTimeout = async (options: Partial<BusOptions>, timeoutMs?: number) => {
        makeLine(options);
        const t0 = start();
        track(bus.read({ ...read(1, 0), ...(timeoutMs ? { timeoutMs } : {}) }));
        track(bus.read(read(1, 100)));
        await flush();
        for (let i = 0; i < 1000 && sentAt.length < 2; i++) {
          clock.advance(10);
          await flush();
        }
        await bus.close();
        return (sentAt[1] ?? Number.NaN) - t0 - (timeoutMs ?? options.timeoutMs ?? 1000);
      };
      assert.equal(await silenceAfterTimeout({}), 1000);
      assert.equal(await silenceAfterTimeout({}, 3000), 3000, "a meter's own timeout");
      assert.equal(await silenceAfterTimeout({ timeoutMs: 100 }), 250);
      assert.equal(await silenceAfterTimeout({ drainAfterTimeoutMs: 600 }), 600);
      assert.equal(
        await silenceAfterTimeout({ drainAfterTimeoutMs: 0 }),
        10,
        'only the pause between requests',
      );
    });

    it('goes on after 4 times the drain time if the line never falls silent, and says so', async () => {
      const lines: string[] = [];
      makeLine({
        log: { info: () => undefined, warn: (line: string) => lines.push(line), error: () => undefined },
        drainAfterTimeoutMs: 300,
      });
      const t0 = start();
      track(bus.read(read(1, 0)));
      const next = track(bus.read(read(1, 100)));
      await flush();
      for (let i = 0; i < 300 && sentAt.length < 2; i++) {
        clock.advance(100);
        connector.receive();
        await flush();
      }
      assert.deepEqual(
        sentAt.map((at) => at - t0),
        [0, 1000 + 1200],
      );
      assert.match(lines.join('\n'), /the line did not fall silent within 1200 ms after a failed request/);
      connector.latest?.answer();
      await flush();
      assert.ok(next.registers);
    });

    it('reopens a connection that cannot discard its input, rather than risk the late answer', async () => {
      connector.discardable = false;
      makeLine();
      track(bus.read(read(1, 0)));
      const next = track(bus.read(read(1, 100)));
      await flush();
      clock.advance(2000);
      await flush();
      assert.equal(bus.stats.connectionsLost, 1);
      assert.match(bus.lastError?.message ?? '', /reopened to discard what a timed-out device sent late/);
      clock.advance(250);
      await flush();
      assert.equal(connector.connects, 2);
      assert.equal(connector.latest?.address, 100);
      connector.latest?.answer();
      await flush();
      assert.ok(next.registers);
    });

    it('does not drain on Modbus TCP, whose transaction ids tell a late answer apart', async () => {
      connector.clock = clock;
      makeBus({ timeoutMs: 1000 });
      const sent: number[] = [];
      bus.on('sent', () => sent.push(clock.now()));
      const t0 = clock.now();
      track(bus.read(read(1, 0)));
      track(bus.read(read(1, 100)));
      await flush();
      clock.advance(1000);
      await flush();
      assert.deepEqual(
        sent.map((at) => at - t0),
        [0, 1000],
      );
      assert.equal(bus.stats.drains, 0);
      assert.deepEqual(connector.discards, [], 'nothing discarded on TCP');
    });
  });

  it('keeps doubling the reconnect delay for a gateway that accepts, answers once and drops; starts again after a connection that held', async () => {
    makeBus({ reconnect: { initialMs: 250, maxMs: 8000, stableAfterMs: 30000 } });
    const connectedAt: number[] = [];
    const lostAt: number[] = [];
    bus.on('state', (state: string) => {
      if (state === 'connected') connectedAt.push(clock.now());
      if (state === 'waiting') lostAt.push(clock.now());
    });
    const t0 = clock.now();
    // Each connection: one answer, then the gateway drops it.
    const answerOnceAndDrop = async () => {
      const outcome = track(bus.read(read(1)));
      await flush();
      connector.latest?.answer();
      await flush();
      assert.ok(outcome.registers);
      connector.drop();
      await flush();
    };
    for (let i = 0; i < 6; i++) {
      await answerOnceAndDrop();
      while (bus.state !== 'connected') {
        clock.advance(50);
        await flush();
      }
    }
    const delays = connectedAt.slice(1).map((at, i) => at - (lostAt[i] as number));
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000], 'doubling, not 250 ms forever');
    // A connection that holds 30 s: the next reconnect starts from 250 ms again.
    clock.advance(30000);
    await answerOnceAndDrop();
    const lost = clock.now();
    while (bus.state !== 'connected') {
      clock.advance(50);
      await flush();
    }
    assert.equal(clock.now() - lost, 250);
    assert.ok(t0 <= lost);
  });

  it('fails a request that waited its longest on a connected but overloaded bus as queue-timeout, a bus problem, logged once', async () => {
    const lines: string[] = [];
    makeBus({
      timeoutMs: 1000,
      maxWaitMs: 1500,
      log: { info: () => undefined, warn: (line: string) => lines.push(line), error: () => undefined },
    });
    const slow = track(bus.read(read(1, 0)));
    const waiting = [track(bus.read(read(2, 0))), track(bus.read(read(3, 0)))];
    await flush();
    clock.advance(1000);
    await flush();
    assert.equal(slow.error?.failure, 'timeout');
    clock.advance(500);
    await flush();
    const failed = waiting.find((outcome) => outcome.settled());
    assert.equal(failed?.error?.failure, 'queue-timeout');
    assert.equal(failed?.error?.busProblem, true);
    assert.equal(failed?.error?.countsAgainstUnit, false);
    assert.match(
      failed?.error?.message ?? '',
      /waited 1500 ms for its turn: the bus is overloaded; poll less often or split the devices over more buses/,
    );
    assert.equal(bus.stats.waitTimeouts, 1);
    assert.deepEqual(lines, [
      'modbus bus "test bus" is overloaded: requests waited 1500 ms for their turn; poll less often or split the devices over more buses',
    ]);
    assert.equal(bus.unitHealth(3).consecutiveFailures, 0);
  });

  it('fails everything with "closed" when closed, and refuses new requests', async () => {
    makeBus();
    const a = track(bus.read(read(1)));
    const b = track(bus.read(read(2)));
    await flush();
    await bus.close();
    await flush();
    assert.equal(a.error?.failure, 'closed');
    assert.equal(b.error?.failure, 'closed');
    const after = track(bus.read(read(3)));
    await flush();
    assert.equal(after.error?.failure, 'closed');
  });

  for (const transport of [
    TCP,
    { kind: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const,
  ]) {
    it(`settles every request exactly once and never has two on the wire, whatever happens (${transport.kind})`, async () => {
      type Step =
        | { kind: 'read'; unitId: number; address: number }
        | { kind: 'answer' }
        | { kind: 'exception' }
        | { kind: 'drop' }
        | { kind: 'noise' }
        | { kind: 'advance'; ms: number };
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.record({
          kind: fc.constant('read' as const),
          unitId: fc.integer({ min: 1, max: 4 }),
          address: fc.constantFrom(0, 10, 20),
        }),
        fc.constant({ kind: 'answer' as const }),
        fc.constant({ kind: 'exception' as const }),
        fc.constant({ kind: 'drop' as const }),
        fc.constant({ kind: 'noise' as const }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3000 }) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
          clock = new ManualClock();
          connector = new FakeConnector();
          const local = new ModbusBus({
            name: 'prop',
            transport,
            clock,
            connector,
            timeoutMs: 500,
            maxQueueLength: 5,
            maxWaitMs: 4000,
          });
          const outcomes: ReturnType<typeof track>[] = [];
          let onWire = 0;
          local.on('sent', () => {
            onWire += 1;
            assert.equal(onWire, 1, 'two requests on the wire');
          });
          local.on('done', () => {
            onWire -= 1;
          });
          for (const s of steps) {
            if (s.kind === 'read') outcomes.push(track(local.read(read(s.unitId, s.address))));
            else if (s.kind === 'answer') connector.latest?.answer();
            else if (s.kind === 'exception')
              connector.latest?.fail(Object.assign(new Error('x'), { modbusCode: 4 }));
            else if (s.kind === 'drop') connector.drop();
            else if (s.kind === 'noise') connector.receive();
            else clock.advance(s.ms);
            await flush();
            assert.ok(local.queueLength <= 5);
          }
          // With time alone (no answers), every request must end: wait bound plus timeout.
          for (let i = 0; i < 30; i++) {
            clock.advance(1000);
            await flush();
          }
          assert.ok(
            outcomes.every((o) => o.count === 1),
            'each settled once',
          );
          await local.close();
        }),
        { numRuns: 60 },
      );
    });
  }
});
