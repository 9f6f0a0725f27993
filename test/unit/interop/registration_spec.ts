import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { BootNotificationResponse } from '../../../lib/ocpp/messages';
import { waitFor } from '../../support/events';
import { type CommandEvent, nextMessage, recordMessages, roundTrip, useInterop } from './support';

describe('interop: registration of unknown chargers', () => {
  const interop = useInterop();

  it('policy pending: the simulator is Pending, retries on its clock, may be read meanwhile, and is Accepted once approved', async () => {
    const cs = await interop.harness().centralSystem({
      unknownChargePoints: 'pending',
      pendingRetryIntervalS: 30,
      heartbeatIntervalS: 600,
    });
    const messages = recordMessages(cs);
    const { cp, clock } = interop.simulator(cs, 'CP-NEW');
    const boot = await cp.connect();
    assert.equal(boot?.status, 'Pending');
    assert.equal(boot?.interval, 30);
    assert.equal(cp.registration, 'Pending');
    assert.equal(cs.chargePoint('CP-NEW')?.registration, 'Pending');
    assert.equal(cs.chargePoint('CP-NEW')?.approved, false);
    assert.equal(interop.harness().log.matching(/CP-NEW .* booted: Pending, waiting for approval/).length, 1);

    // 4.2: the next BootNotification after the interval, nothing else meanwhile.
    clock.advance(29_000);
    await cp.whenIdle();
    assert.deepEqual(
      messages.map((m) => m.action),
      ['BootNotification'],
    );
    const again = nextMessage(cs, 'BootNotification');
    clock.advance(1000);
    assert.deepEqual(((await again).payload as { registration: string }).registration, 'Pending');
    await cp.whenIdle();

    // 4.2: the central system may read and configure a Pending charger, but not start or stop transactions.
    const configuration = await roundTrip(cs, cp, 'GetConfiguration', { key: ['NumberOfConnectors'] });
    assert.deepEqual(configuration.configurationKey, [
      { key: 'NumberOfConnectors', readonly: true, value: '1' },
    ]);
    assert.deepEqual(await roundTrip(cs, cp, 'RemoteStartTransaction', { connectorId: 1, idTag: 'TAG-1' }), {
      status: 'Rejected',
    });

    const accepted = waitFor<[BootNotificationResponse]>(
      cp as unknown as EventEmitter,
      'boot',
      (response) => response.status === 'Accepted',
    );
    const trigger = waitFor<[CommandEvent]>(cs, 'command', (command) => command.action === 'TriggerMessage');
    await cs.approveChargePoint('CP-NEW');
    const [command] = await trigger;
    assert.deepEqual(command.request, { requestedMessage: 'BootNotification' });
    assert.deepEqual(command.response, { status: 'Accepted' });
    const [response] = await accepted;
    assert.equal(response.interval, 600);
    await cp.whenIdle();
    assert.equal(cp.registration, 'Accepted');
    assert.equal(cs.chargePoint('CP-NEW')?.registration, 'Accepted');
    assert.equal(cs.chargePoint('CP-NEW')?.approved, true);
    assert.deepEqual(
      messages.map((m) => [m.action, (m.response as { status?: string }).status]),
      [
        ['BootNotification', 'Pending'],
        ['BootNotification', 'Pending'],
        ['BootNotification', 'Accepted'],
        ['StatusNotification', undefined],
        ['StatusNotification', undefined],
      ],
    );

    // Accepted now: no more boot retries, and transactions go through.
    clock.advance(60_000);
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    assert.equal(messages.filter((m) => m.action === 'BootNotification').length, 3);
    assert.equal(cs.openTransactions().length, 1);
  });

  it('while Pending, a StatusNotification the central system asked for with TriggerMessage is processed, not refused (4.2)', async () => {
    const cs = await interop.harness().centralSystem({ unknownChargePoints: 'pending' });
    const messages = recordMessages(cs);
    const { cp } = interop.simulator(cs, 'CP-NEW');
    assert.equal((await cp.connect())?.status, 'Pending');
    // The simulator's own view of how its StatusNotification went: answered, or a CallError.
    const outcome = new Promise<string>((resolve) => {
      const emitter = cp as unknown as EventEmitter;
      const onResult = (result: { action: string }) => {
        if (result.action !== 'StatusNotification') return;
        done('answered');
      };
      const onError = (event: { action: string; error: Error & { rpcErrorCode?: string } }) => {
        if (event.action !== 'StatusNotification') return;
        done(`CallError ${event.error.rpcErrorCode}: ${event.error.message}`);
      };
      const done = (how: string) => {
        emitter.off('result', onResult);
        emitter.off('callError', onError);
        resolve(how);
      };
      emitter.on('result', onResult);
      emitter.on('callError', onError);
    });
    assert.deepEqual(
      await roundTrip(cs, cp, 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }),
      { status: 'Accepted' },
    );
    assert.equal(await outcome, 'answered', 'the central system refused the message it had asked for');
    assert.equal(messages.filter((m) => m.action === 'StatusNotification').length, 1);
    assert.equal(cs.connectors.find('CP-NEW', 1)?.status, 'Available');
  });

  it('policy reject: the handshake is refused and the simulator keeps dialling with backoff', async () => {
    const cs = await interop.harness().centralSystem({ unknownChargePoints: 'reject' });
    const refused = waitFor<[{ identity: string; status: number }]>(cs, 'refused');
    const { cp, clock } = interop.simulator(cs, 'CP-STRANGER', { reconnect: { initialDelayS: 5 } });
    await assert.rejects(cp.connect(), (err: Error & { code?: number }) => err.code === 404);
    assert.deepEqual([(await refused)[0].identity, (await refused)[0].status], ['CP-STRANGER', 404]);
    const retried = waitFor(cs, 'refused');
    clock.advance(5000);
    await retried;
    assert.equal(cs.chargePoint('CP-STRANGER'), undefined);
  });
});
