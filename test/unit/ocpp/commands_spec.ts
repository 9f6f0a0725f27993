import assert from 'node:assert/strict';
import { CommandRefusedError, executeCommand } from '../../../lib/ocpp/commands';
import { CommandError } from '../../../lib/ocpp/connection';
import { answer } from '../../support/charge-point';
import { useOcppHarness } from '../../support/ocpp';

describe('commands to chargers', () => {
  const harness = useOcppHarness();

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
