import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { CentralSystem } from '../../../lib/ocpp/central-system';
import { CommandRefusedError, executeCommand } from '../../../lib/ocpp/commands';
import { CommandError } from '../../../lib/ocpp/connection';
import { GiveUp } from '../../../lib/ocpp/give-up';
import { answer } from '../../support/charge-point';
import { useOcppHarness } from '../../support/ocpp';

describe('commands to chargers', () => {
  const harness = useOcppHarness();

  it('sent while the central system is still starting, wait for its start instead of failing "not started"', async () => {
    // A flow's inject fires a second after deploy; on a busy machine the central system was still
    // opening its durable state then, and the dashboard's ListSessions failed (CI, 2026-11-29).
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-starting-'));
    try {
      const cs = await harness().centralSystem({ dataDirectory });
      await cs.stop();
      const starting = cs.start();
      const listed = executeCommand(cs, { action: 'ListSessions' });
      const connectors = executeCommand(cs, { action: 'ListConnectors' });
      await starting;
      assert.deepEqual((await listed).response, []);
      assert.deepEqual((await connectors).response, []);
      await cs.stop();
    } finally {
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });

  it("sent while a start fails, fail with the start's own error", async () => {
    const first = await harness().centralSystem();
    const second = new CentralSystem({ host: '127.0.0.1', port: first.port as number, log: harness().log });
    const starting = second.start();
    const listed = executeCommand(second, { action: 'ListSessions' });
    await assert.rejects(starting, /already in use/);
    await assert.rejects(listed, /already in use/);
    await second.stop();
  });

  it('fail at once, naming the charger, when it is not connected: nothing is queued', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-GONE');
    await client.close();
    await assert.rejects(
      cs.call('CP-GONE', 'Reset', { type: 'Soft' }),
      (err: unknown) =>
        err instanceof CommandError && err.code === 'Offline' && /CP-GONE is not connected/.test(err.message),
    );
  });

  it('time out with a message naming the charger and the action', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-SLOW');
    answer(client, 'GetDiagnostics', () => new Promise(() => undefined));
    await assert.rejects(
      cs.call('CP-SLOW', 'GetDiagnostics', { location: 'ftp://example.org/' }, { timeoutMs: 300 }),
      (err: unknown) =>
        err instanceof CommandError &&
        err.code === 'Timeout' &&
        err.message === 'charge point CP-SLOW did not answer GetDiagnostics within 300 ms',
    );
  });

  it('time each command from when it goes out: one behind a command that times out is sent then and answered', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-BUSY');
    answer(client, 'GetDiagnostics', () => new Promise(() => undefined));
    answer(client, 'Reset', () => ({ status: 'Accepted' }));
    // One call in flight per charger: the Reset waits 300 ms, longer than its own 200 ms.
    const stuck = cs.call(
      'CP-BUSY',
      'GetDiagnostics',
      { location: 'ftp://example.org/' },
      { timeoutMs: 300 },
    );
    const behind = cs.call('CP-BUSY', 'Reset', { type: 'Soft' }, { timeoutMs: 200 });
    await assert.rejects(stuck, (err: unknown) => err instanceof CommandError && err.code === 'Timeout');
    assert.deepEqual(await behind, { status: 'Accepted' });
  });

  it('hand a command to ocpp-rpc without its per-call timer (it costs more than the call), given up through a signal of its own', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-PLAIN');
    answer(client, 'Reset', () => ({ status: 'Accepted' }));
    const handedOver: { callTimeoutMs?: number; signal?: unknown }[] = [];
    const original = RPCClient.prototype.call;
    RPCClient.prototype.call = function (this: RPCClient, ...args: Parameters<RPCClient['call']>) {
      if (args[0] === 'Reset') handedOver.push(args[2] as { callTimeoutMs?: number; signal?: unknown });
      return original.apply(this, args);
    } as RPCClient['call'];
    try {
      assert.deepEqual(await cs.call('CP-PLAIN', 'Reset', { type: 'Soft' }, { timeoutMs: 5000 }), {
        status: 'Accepted',
      });
    } finally {
      RPCClient.prototype.call = original;
    }
    assert.equal(handedOver.length, 1);
    assert.equal(handedOver[0]?.callTimeoutMs, 0);
    const signal = handedOver[0]?.signal;
    assert.ok(signal instanceof GiveUp);
    assert.equal(signal.aborted, false, 'answered in time: nothing aborted');
  });

  it('keep the queue going when a client throws at once for a call that waited: the call before it is answered, the one after goes', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-THROWS');
    let answerDiagnostics: (value: { fileName: string }) => void = () => undefined;
    const asked = new Promise<void>((askedNow) => {
      answer(client, 'GetDiagnostics', () => {
        askedNow();
        return new Promise((resolve) => {
          answerDiagnostics = resolve;
        });
      });
    });
    answer(client, 'ClearCache', () => ({ status: 'Accepted' }));
    const original = RPCClient.prototype.call;
    // ocpp-rpc's call is async and never throws at once; a client that did must not stall the queue.
    RPCClient.prototype.call = function (this: RPCClient, ...args: Parameters<RPCClient['call']>) {
      if (args[0] === 'Reset') throw new Error('thrown at once');
      return original.apply(this, args);
    } as RPCClient['call'];
    try {
      const first = cs.call('CP-THROWS', 'GetDiagnostics', { location: 'ftp://example.org/' });
      // Both wait for the first: the Reset's turn comes when the first is answered.
      const thrown = cs.call('CP-THROWS', 'Reset', { type: 'Soft' });
      const after = cs.call('CP-THROWS', 'ClearCache', {});
      thrown.catch(() => undefined);
      await asked;
      answerDiagnostics({ fileName: 'diagnostics.zip' });
      assert.deepEqual(await first, { fileName: 'diagnostics.zip' });
      await assert.rejects(thrown, /thrown at once/);
      assert.deepEqual(await after, { status: 'Accepted' });
    } finally {
      RPCClient.prototype.call = original;
    }
  });

  it("give a call up through what ocpp-rpc listens on: events.once(signal, 'abort') settles on abort, with the reason", async () => {
    const giveUp = new GiveUp();
    let settled = false;
    const aborted = once(giveUp as unknown as EventTarget, 'abort').then(() => {
      settled = true;
    });
    await Promise.resolve();
    assert.equal(settled, false);
    giveUp.abort();
    giveUp.abort();
    await aborted;
    assert.equal(giveUp.aborted, true);
    assert.equal(giveUp.reason, 'Call timeout');
  });

  it('report a CallError with its code, and refusals as CommandRefusedError carrying the answer', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    answer(client, 'ChangeAvailability', () => ({ status: 'Rejected' }));
    await assert.rejects(
      executeCommand(cs, {
        chargePointId: 'CP-1',
        action: 'ChangeAvailability',
        payload: { connectorId: 0, type: 'Inoperative' },
      }),
      (err: unknown) =>
        err instanceof CommandRefusedError &&
        /CP-1 answered ChangeAvailability with Rejected/.test(err.message) &&
        (err.result.response as { status: string }).status === 'Rejected',
    );
    await assert.rejects(
      cs.call('CP-1', 'ClearCache', {}),
      (err: unknown) => err instanceof CommandError && err.ocppErrorCode === 'NotImplemented',
    );
  });

  it('check the request against the schema before sending, naming the field', async () => {
    const cs = await harness().centralSystem();
    await harness().bootedCharger(cs, 'CP-1');
    await assert.rejects(
      executeCommand(cs, { chargePointId: 'CP-1', action: 'Reset', payload: { type: 'Immediately' } }),
      /Reset to CP-1: type: must be one of Hard, Soft/,
    );
    await assert.rejects(
      executeCommand(cs, { action: 'Fly', payload: {} }),
      /"Fly" is not a command: expected one of CancelReservation/,
    );
    await assert.rejects(
      executeCommand(cs, { action: 'Reset', payload: { type: 'Soft' } }),
      /Reset needs the charge point it goes to/,
    );
  });
});
