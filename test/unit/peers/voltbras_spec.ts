import assert from 'node:assert/strict';
import type { SessionRecord } from '../../../lib/contracts';
import { describeDraws, lineA, until, usePeerCarPark } from '../../support/peer-site';
import { VoltbrasCharger } from '../../support/voltbras-charger';

/**
 * The central system, the load manager and the charging-profile manager against chargers on
 * @voltbras/ts-ocpp, a second charge-point implementation written elsewhere (not ocpp-rpc, not
 * @evpower/ocpp-ts), over real WebSockets on 127.0.0.1. The library checks every request of the
 * central system against its own copy of the OCPP 1.6 schemas, the wrapper every answer; each test
 * ends by asserting that nothing the central system sent was refused.
 */

const SUPPLY_A = 32;

describe('chargers built elsewhere: @voltbras/ts-ocpp', () => {
  const { harness, chargers, connected, onLine } = usePeerCarPark(
    (identity, options) => new VoltbrasCharger(identity, options),
  );

  function noViolations() {
    for (const cp of chargers) assert.deepEqual(cp.violations, [], `${cp.identity}: the library refused`);
  }

  it('runs a whole session: boot, status, authorize, start, meter values, stop, one charge data record', async () => {
    const cs = await harness().centralSystem();
    // A charger that has charged before: its register does not start at 0.
    const cp = await connected(cs, 'VOLT-1', 12_345);
    assert.equal(cs.bootOf('VOLT-1')?.chargePointModel, 'voltbras-ts-ocpp');
    assert.equal(cs.connectorOf('VOLT-1', 1)?.status, 'Available');

    const outcome = await cp.startSession(1, 'TAG-1', { maxA: 16, phases: 3 });
    assert.deepEqual([outcome.authorize, outcome.start], ['Accepted', 'Accepted']);
    const state = cs.connectorOf('VOLT-1', 1);
    assert.equal(state?.status, 'Charging');
    assert.deepEqual(state?.currentA, [16, 16, 16], 'Current.Import per phase from its MeterValues');
    assert.equal(state?.offeredCurrentA, 32, 'Current.Offered: no profile limits the charger');
    assert.equal(state?.energyWh, 12_345);
    const [open] = cs.openTransactions();
    assert.equal(cs.openTransactions().length, 1);
    assert.equal(open?.transactionId, outcome.transactionId);
    assert.equal(open?.idTag, 'TAG-1');
    assert.equal(open?.meterStartWh, 12_345);

    await cp.stopSession(1, { energyWh: 7_250 });
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    assert.equal(sessions.length, 1);
    const [record] = sessions;
    assert.equal(record?.chargePointId, 'VOLT-1');
    assert.equal(record?.connectorId, 1);
    assert.equal(record?.transactionId, outcome.transactionId);
    assert.equal(record?.idTag, 'TAG-1');
    assert.equal(record?.meterStartWh, 12_345);
    assert.equal(record?.meterStopWh, 19_595);
    assert.equal(record?.energyWh, 7_250, 'what went into the car, not the register');
    assert.equal(record?.stopReason, 'Local');
    assert.equal(record?.anomaly, undefined);
    assert.equal(cs.openTransactions().length, 0);
    assert.equal(cs.connectorOf('VOLT-1', 1)?.status, 'Available');
    noViolations();
    assert.deepEqual(harness().log.matching(/./, 'error'), [], 'the central system logged no error');
  });

  it('takes the load manager’s limits as profiles: three cars share a 32 A supply line, each charges, none above it', async () => {
    const cs = await harness().centralSystem();
    // Installed and booted first, then the cars come one after the other.
    const { feedErrors, watch } = await onLine(cs, ['VOLT-1', 'VOLT-2', 'VOLT-3'], SUPPLY_A);
    for (const cp of chargers) {
      const outcome = await cp.startSession(1, `TAG-${cp.identity}`, { maxA: 32, phases: 3 });
      assert.equal(outcome.start, 'Accepted');
    }
    await until(chargers, () => chargers.every((cp) => cp.drawA(1)[0] >= 6));
    const line = lineA(chargers);
    assert.ok(
      line.every((a) => a <= SUPPLY_A + 1e-9),
      `the line carries ${line.join('/')} A: ${describeDraws(chargers)}`,
    );
    assert.ok(
      watch.highestA <= SUPPLY_A + 1e-9,
      `at one moment the line carried ${watch.highestA} A: ${watch.at}`,
    );
    for (const cp of chargers) {
      assert.ok(cp.accepted.length > 0, `${cp.identity} got a profile`);
      // The central system knows what the car draws now (it came in the charger's MeterValues).
      await until(chargers, () => cs.connectorOf(cp.identity, 1)?.currentA?.[0] === cp.drawA(1)[0]);
    }
    assert.deepEqual(feedErrors, []);
    noViolations();
  });
});
