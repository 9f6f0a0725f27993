import assert from 'node:assert/strict';
import { answer } from '../../support/charge-point';
import { waitFor } from '../../support/events';
import { useOcppHarness } from '../../support/ocpp';
import type { CommandEvent } from '../interop/support';

/**
 * Issue 37: a Pending Schneider EVlink refuses the TriggerMessage(BootNotification) sent when it is
 * approved (its TriggerMessage takes only StatusNotification, Heartbeat and MeterValues, vendor doc
 * 003 §3.1) and waits for its own next boot. The charger here is ocpp-rpc in strict mode (every
 * message both ways checked against the OCPP 1.6 schemas), answering as the guide says.
 */
describe('an approved charger that refuses to boot again at once (EVlink, ocpp-rpc strict)', () => {
  const harness = useOcppHarness();
  const EVLINK_BOOT = {
    chargePointVendor: 'Schneider Electric',
    chargePointModel: 'EVlink Pro AC',
    firmwareVersion: '3.3.0.7',
  };

  it('is said to wait for its next BootNotification, in the log and in its info, until that boot', async () => {
    const h = harness();
    const cs = await h.centralSystem({ unknownChargePoints: 'pending', pendingRetryIntervalS: 60 });
    const client = h.charger(cs, 'EVLINK-P', { strictMode: true });
    const triggers: string[] = [];
    answer(client, 'TriggerMessage', (params) => {
      const { requestedMessage } = params as { requestedMessage: string };
      triggers.push(requestedMessage);
      return {
        status: ['StatusNotification', 'Heartbeat', 'MeterValues'].includes(requestedMessage)
          ? 'Accepted'
          : 'Rejected',
      };
    });
    await client.connect();
    assert.equal(
      ((await client.call('BootNotification', EVLINK_BOOT)) as { status: string }).status,
      'Pending',
    );

    const answered = waitFor<[CommandEvent]>(cs, 'command', (command) => command.action === 'TriggerMessage');
    await cs.approveChargePoint('EVLINK-P');
    const [command] = await answered;
    assert.deepEqual(command.response, { status: 'Rejected' });
    assert.deepEqual(triggers, ['BootNotification']);
    // The refusal is read in the turn after the answer.
    await new Promise((resolve) => setImmediate(resolve));

    const info = cs.chargePoint('EVLINK-P');
    assert.equal(info?.registration, 'Pending');
    assert.equal(info?.approved, true);
    assert.match(
      info?.waitingForBoot ?? '',
      /^approved; it refused TriggerMessage BootNotification \(Rejected\), so it stays Pending until it sends its next BootNotification: .*60 s/,
    );
    assert.equal(
      h.log.matching(
        /charge point EVLINK-P approved; it refused TriggerMessage BootNotification \(Rejected\)/,
        'warn',
      ).length,
      1,
    );

    // Its own next boot (after the 60 s it was told): accepted, and the word is gone.
    assert.equal(
      ((await client.call('BootNotification', EVLINK_BOOT)) as { status: string }).status,
      'Accepted',
    );
    assert.equal(cs.chargePoint('EVLINK-P')?.waitingForBoot, undefined);
  });
});
