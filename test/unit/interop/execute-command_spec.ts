import assert from 'node:assert/strict';
import { CommandRefusedError, executeCommand } from '../../../lib/ocpp/commands';
import { CommandError } from '../../../lib/ocpp/connection';
import { waitFor } from '../../support/events';
import { nextMessage, simTime, useInterop } from './support';

/**
 * executeCommand is what the ampflow-ocpp-command node runs: OCPP commands to a charger (a refusal
 * is an error, for Catch nodes) and the central system's local actions.
 */
describe('interop: executeCommand against the simulator', () => {
  const interop = useInterop();

  it('RemoteStartTransaction gets the fixed id tag when none is given; a refusal throws CommandRefusedError with the answer', async () => {
    const cs = await interop
      .harness()
      .centralSystem({ authorization: { policy: 'acceptAll', fixedIdTag: 'FREE' } });
    const { cp } = interop.simulator(cs, 'CP-1');
    await cp.connect();
    cp.plugIn(1, {});
    const started = nextMessage(cs, 'StartTransaction');
    assert.deepEqual(
      await executeCommand(cs, {
        chargePointId: 'CP-1',
        action: 'RemoteStartTransaction',
        payload: { connectorId: 1 },
      }),
      {
        action: 'RemoteStartTransaction',
        chargePointId: 'CP-1',
        request: { connectorId: 1, idTag: 'FREE' },
        response: { status: 'Accepted' },
      },
    );
    assert.equal(((await started).request as { idTag: string }).idTag, 'FREE');
    await cp.whenIdle();

    await assert.rejects(
      executeCommand(cs, {
        chargePointId: 'CP-1',
        action: 'RemoteStartTransaction',
        payload: { connectorId: 1 },
      }),
      (err: unknown) => {
        assert.ok(err instanceof CommandRefusedError);
        assert.equal(err.message, 'charge point CP-1 answered RemoteStartTransaction with Rejected');
        assert.deepEqual(err.result.response, { status: 'Rejected' });
        return true;
      },
    );

    const listed = await executeCommand(cs, { chargePointId: 'CP-1', action: 'ListOpenTransactions' });
    assert.deepEqual(
      (listed.response as { transactionId: number; idTag: string }[]).map((tx) => [
        tx.transactionId,
        tx.idTag,
      ]),
      [[cp.connector(1).transaction?.transactionId, 'FREE']],
    );
  });

  it('a charger that went away: CommandError Offline at once', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    const disconnected = waitFor(cs, 'disconnect');
    await cp.disconnect();
    await disconnected;
    await assert.rejects(
      executeCommand(cs, { chargePointId: 'CP-1', action: 'ClearCache' }),
      (err: unknown) =>
        err instanceof CommandError && err.code === 'Offline' && /CP-1 is not connected/.test(err.message),
    );
  });

  it('local actions: SetIdTags then PushLocalList reach the simulator; ListChargePoints shows it; ExportSessions has its session', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    await executeCommand(cs, {
      action: 'SetIdTags',
      payload: { idTags: [{ idTag: 'TAG-A', status: 'Accepted' }] },
    });
    assert.deepEqual(
      (await executeCommand(cs, { chargePointId: 'CP-1', action: 'PushLocalList', payload: {} })).response,
      { listVersion: 1000, updateType: 'Full' },
    );
    assert.deepEqual([...cp.localAuthorizationList.entries], [['TAG-A', { status: 'Accepted' }]]);
    assert.deepEqual(
      (await executeCommand(cs, { chargePointId: 'CP-1', action: 'PushLocalList', payload: { full: true } }))
        .response,
      { listVersion: 1000, updateType: 'Full' },
    );

    const listed = (await executeCommand(cs, { action: 'ListChargePoints' })).response as {
      chargePointId: string;
      connected: boolean;
      localListVersion?: number;
    }[];
    assert.deepEqual(
      listed.map((c) => [c.chargePointId, c.connected, c.localListVersion]),
      [['CP-1', true, 1000]],
    );

    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-A');
    await cp.stopTransaction(1);
    await cp.whenIdle();
    const csv = (await executeCommand(cs, { action: 'ExportSessions' })).response as string;
    const lines = csv.trim().split(/\r?\n/);
    assert.equal(lines.length, 2, csv);
    assert.match(lines[1] ?? '', /CP-1/);
    assert.match(lines[1] ?? '', /TAG-A/);
  });

  it('ApproveChargePoint accepts a Pending simulator', async () => {
    const cs = await interop.harness().centralSystem({ unknownChargePoints: 'pending' });
    const { cp } = interop.simulator(cs, 'CP-NEW');
    assert.equal((await cp.connect())?.status, 'Pending');
    const accepted = cp.waitForAccepted();
    const result = await executeCommand(cs, { chargePointId: 'CP-NEW', action: 'ApproveChargePoint' });
    assert.equal((result.response as { approved: boolean }).approved, true);
    assert.equal((await accepted).status, 'Accepted');
  });

  it('answers that mean "not carried out" are refusals: SignedUpdateFirmware InvalidCertificate', async () => {
    const { cs, clock } = await interop.connected('CP-1');
    const outcome = await executeCommand(cs, {
      chargePointId: 'CP-1',
      action: 'SignedUpdateFirmware',
      payload: {
        requestId: 3,
        firmware: {
          location: 'https://fw.example.com/sim-9.bin',
          retrieveDateTime: simTime(clock),
          signingCertificate: 'not a certificate',
          signature: 'c2lnbmF0dXJl',
        },
      },
    }).catch((err: Error) => err);
    assert.ok(
      outcome instanceof CommandRefusedError,
      `executeCommand resolved with ${JSON.stringify(outcome)} instead of throwing CommandRefusedError`,
    );
    assert.deepEqual(outcome.result.response, { status: 'InvalidCertificate' });
  });
});
