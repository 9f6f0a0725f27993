import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus } from 'node-red';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import chargingProfileNode = require('../../nodes/ampflow-charging-profile');

import { ManualClock } from '../../lib/clock';
import { AUTO, type LimitReport, PRESET_NAMES, type VerificationReport } from '../../lib/profiles';
import { limitStatus, limitsStatus, RepeatedFailures } from '../../nodes/profile-status';
import type { CentralSystemNode } from '../../nodes/types';
import { SimulatedChargePoint } from '../../sim/charge-point';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { CATCH_ALL, listening, loadListening, onTab, useHelperServer, wiredToOut } from './fixtures';

interface Msg {
  topic?: string;
  payload: (LimitReport | VerificationReport) & { event?: 'limit' | 'verification' };
  error?: { message: string };
}

const root = join(__dirname, '..', '..');

describe(`ampflow-charging-profile node (Node-RED ${nodeRedVersion()})`, () => {
  let port: number;
  const chargers: SimulatedChargePoint[] = [];

  beforeEach(async () => {
    port = await freePort();
  });

  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
  });

  useHelperServer();

  async function load(settings: Record<string, unknown> = {}) {
    await loadListening(
      [centralSystemNode, chargingProfileNode],
      onTab(
        centralSystemConfig(port),
        ...wiredToOut({
          id: 'profile',
          type: 'ampflow-charging-profile',
          centralSystem: 'cs',
          strategy: 'auto',
          chargers: '',
          voltageV: '230',
          increaseIntervalS: '10',
          verifySchedule: true,
          followDelayS: '0',
          toleranceA: '1',
          ...settings,
        }),
        ...CATCH_ALL,
      ),
    );
  }

  async function charger(options: Partial<ConstructorParameters<typeof SimulatedChargePoint>[0]> = {}) {
    const clock = new ManualClock(Date.now());
    const cp = new SimulatedChargePoint({
      centralSystemUrl: `ws://127.0.0.1:${port}/`,
      identity: 'CP-1',
      clock,
      ...options,
      configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 10, ...options.configuration },
    });
    chargers.push(cp);
    await cp.connect();
    return { cp, clock };
  }

  const setPoint = (limitA: number, fields: Record<string, unknown> = {}) => ({
    chargePointId: 'CP-1',
    connectorId: 1,
    limitA,
    phases: 3,
    reason: 'test',
    ...fields,
  });

  it('sends a set-point, outputs the charger’s answer, and shows the limit verified once the meter agrees', async () => {
    await load();
    const { cp, clock } = await charger();
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG');
    await cp.whenIdle();
    const node = helper.getNode('profile');
    const out = helper.getNode('out');
    const limit = waitFor<[Msg]>(out, 'input');
    node.receive({ payload: setPoint(16) });
    const [msg] = await limit;
    assert.equal(msg.topic, 'CP-1/1');
    const report = msg.payload as LimitReport & { event: string };
    assert.equal(report.event, 'limit');
    assert.equal(report.outcome, 'applied');
    assert.equal(report.method, 'TxProfile');
    assert.deepEqual(report.response, { status: 'Accepted' });
    assert.equal(report.verification.schedule, 'matches');
    assert.equal(cp.connector(1).offeredA, 16);

    const verified = waitFor<[Msg]>(out, 'input');
    const status = waitFor<[{ args: [NodeStatus] }]>(
      node,
      'call:status',
      (call) => call.args[0]?.text === '16 A verified',
    );
    clock.advance(10_000);
    await cp.whenIdle();
    const [check] = await verified;
    assert.equal(check.payload.event, 'verification');
    assert.equal(check.payload.verification.meter, 'within');
    await status;
  });

  it('sums up every charger in its status, not the last limit it sent ("1 verified, 1 refused", issue 38)', async () => {
    await load();
    const { cp, clock } = await charger();
    const { cp: refusing } = await charger({ identity: 'CP-2' });
    refusing.override('SetChargingProfile', () => ({ status: 'Rejected' }));
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG');
    await cp.whenIdle();
    const node = helper.getNode('profile');
    const refused = waitFor<[Msg]>(helper.getNode('caught'), 'input');
    node.receive({ payload: [setPoint(16), setPoint(16, { chargePointId: 'CP-2' })] });
    await refused;
    // CP-1's limit verified after CP-2's refusal: the status still names the refusal.
    const status = waitFor<[{ args: [NodeStatus] }]>(
      node,
      'call:status',
      (call) => call.args[0]?.text === '1 verified, 1 refused',
    );
    clock.advance(10_000);
    await cp.whenIdle();
    const [call] = await status;
    assert.deepEqual(call.args[0], { fill: 'red', shape: 'ring', text: '1 verified, 1 refused' });
  });

  it('takes a list of set-points, one message each, and pause / resume commands', async () => {
    await load({ increaseIntervalS: '0' });
    const { cp } = await charger({ connectors: 2 });
    const node = helper.getNode('profile');
    const out = helper.getNode('out');
    const messages: Msg[] = [];
    (out as unknown as NodeJS.EventEmitter).on('input', (msg: Msg) => messages.push(msg));
    const two = waitFor(out, 'input', () => messages.length === 2);
    node.receive({ payload: [setPoint(16), setPoint(10, { connectorId: 2 })] });
    await two;
    assert.deepEqual(
      messages.map((msg) => [msg.topic, (msg.payload as LimitReport).limitA]),
      [
        ['CP-1/1', 16],
        ['CP-1/2', 10],
      ],
    );
    const paused = waitFor<[Msg]>(out, 'input');
    node.receive({ payload: { command: 'pause', chargePointId: 'CP-1', connectorId: 1 } });
    assert.equal(((await paused)[0].payload as LimitReport).limitA, 0);
    const resumed = waitFor<[Msg]>(out, 'input');
    node.receive({ payload: { command: 'resume', chargePointId: 'CP-1', connectorId: 1 } });
    assert.equal(((await resumed)[0].payload as LimitReport).limitA, 16);
    // One per connector, and the offline fallback on connector 0 (stack level 0, 6 A).
    assert.deepEqual(
      cp.chargingProfiles.map(({ connectorId, profile }) => [connectorId, profile.stackLevel]).sort(),
      [
        [0, 0],
        [1, 8],
        [2, 8],
      ],
    );
  });

  it('gives Catch nodes a charger that refused every way (with the report) and an invalid set-point', async () => {
    await load();
    const { cp } = await charger();
    cp.override('SetChargingProfile', () => ({ status: 'Rejected' }));
    const caught = helper.getNode('caught');
    const refused = waitFor<[Msg]>(caught, 'input');
    helper.getNode('profile').receive({ payload: setPoint(16) });
    const [refusal] = await refused;
    assert.match(refusal.error?.message ?? '', /CP-1 connector 1 refused every way to set 16 A/);
    assert.equal((refusal.payload as LimitReport).outcome, 'failed');

    const invalid = waitFor<[Msg]>(caught, 'input');
    helper.getNode('profile').receive({ payload: { chargePointId: 'CP-1', connectorId: 1, limitA: 'lots' } });
    assert.match((await invalid)[0].error?.message ?? '', /limitA must be a number of amperes/);
  });

  it('shows an offline charger in its status, not as an error, and outputs the limit when it is sent on connecting', async () => {
    await load();
    const node = helper.getNode('profile');
    const status = waitFor<[{ args: [NodeStatus] }]>(
      node,
      'call:status',
      (call) => call.args[0]?.text === '12 A offline',
    );
    node.receive({ payload: setPoint(12) });
    await status;
    const sent = waitFor<[Msg]>(helper.getNode('out'), 'input');
    await charger();
    const [msg] = await sent;
    const report = msg.payload as LimitReport;
    assert.equal(report.outcome, 'applied');
    assert.equal(report.resent, true);
    assert.equal(report.limitA, 12);
  });

  it('reports settings it cannot use, by field', async () => {
    await load({ chargers: '{"CP-1": "tesla"}' });
    const node = helper.getNode('profile');
    const caught = waitFor<[Msg]>(helper.getNode('caught'), 'input');
    node.receive({ payload: setPoint(16) });
    assert.match((await caught)[0].error?.message ?? '', /chargers\.CP-1: "tesla" is not a strategy/);
  });

  it('offers exactly auto and the presets in the editor', () => {
    const html = readFileSync(join(root, 'nodes', 'ampflow-charging-profile.html'), 'utf8');
    const match = /var strategies = \[([^\]]*)\]/.exec(html);
    const offered = [...(match?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(offered, [AUTO, ...PRESET_NAMES]);
    const locale = JSON.parse(
      readFileSync(join(root, 'nodes', 'locales', 'en-US', 'ampflow-charging-profile.json'), 'utf8'),
    );
    assert.deepEqual(Object.keys(locale['ampflow-charging-profile'].strategies), [AUTO, ...PRESET_NAMES]);
  });

  it('shows a schedule held below the limit, and warns about a retried failure once per cause', () => {
    const verification = {
      schedule: 'lower',
      meter: 'within',
      ignoresLimit: false,
      verified: false,
    } as const;
    const report = {
      chargePointId: 'CP-1',
      connectorId: 1,
      limitA: 16,
      requestedLimitA: 16,
      reason: 'test',
      outcome: 'applied',
      strategy: 'default',
      attempts: [],
      verification,
      at: '2026-01-01T00:00:00.000Z',
    } as LimitReport;
    assert.deepEqual(limitStatus(report), { fill: 'yellow', shape: 'ring', text: '16 A held lower' });
    // Many connectors: counted by state, what works first, coloured by the worst (issue 38).
    const verifiedReport = {
      ...report,
      verification: { ...verification, schedule: 'matches', verified: true },
    };
    const paused = { ...verifiedReport, connectorId: 2, limitA: 0 } as LimitReport;
    assert.deepEqual(limitsStatus([verifiedReport as LimitReport]), {
      fill: 'green',
      shape: 'dot',
      text: '16 A verified',
    });
    assert.deepEqual(limitsStatus([verifiedReport as LimitReport, paused]), {
      fill: 'green',
      shape: 'dot',
      text: '2 verified',
    });
    assert.deepEqual(limitsStatus([{ ...report, outcome: 'failed' } as LimitReport, paused, report]), {
      fill: 'red',
      shape: 'ring',
      text: '1 verified, 1 held lower, 1 refused',
    });
    const failures = new RepeatedFailures();
    const failed = { ...report, outcome: 'failed', error: 'CP-1 did not answer' } as LimitReport;
    assert.equal(failures.shouldWarn(failed), true);
    assert.equal(failures.shouldWarn(failed), false, 'the next retry with the same cause');
    assert.equal(failures.shouldWarn({ ...failed, connectorId: 2 }), true);
    assert.equal(failures.shouldWarn(report), false);
    assert.equal(failures.shouldWarn(failed), true, 'after a limit went through, again');
  });

  it('deploys the example flow', async () => {
    const flow = JSON.parse(
      readFileSync(join(root, 'examples', 'Charging profile - set-points to chargers.json'), 'utf8'),
    ) as Record<string, unknown>[];
    for (const node of flow) if (node.type === 'ampflow-central-system') node.port = String(port);
    const core = (file: string) =>
      require(join(root, 'node_modules', '@node-red', 'nodes', 'core', 'common', file));
    await helper.load(
      [
        centralSystemNode,
        chargingProfileNode,
        core('20-inject.js'),
        core('21-debug.js'),
        core('90-comment.js'),
      ],
      flow as never,
    );
    const csNode = flow.find((node) => node.type === 'ampflow-central-system');
    await listening(helper.getNode(csNode?.id as string) as CentralSystemNode);
    const profileNode = helper.getNode('c3000000000000n1');
    assert.ok(profileNode, 'the charging profile node started');
    const caught = waitFor<[Msg]>(helper.getNode('c3000000000000d2'), 'input', () => true, 300).catch(
      () => undefined,
    );
    assert.equal(await caught, undefined, 'nothing went wrong at start');
  });
});
