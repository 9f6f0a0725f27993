import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import { type GuideSimulation, type GuideStatus, guideSimulation } from '../support/guide';
import { type NodeRed, nodeRedVersion, startNodeRed } from '../support/node-red';
import { NodeStatuses } from '../support/node-statuses';
import { installedPackage } from '../support/packed';
import { freePort } from '../support/ports';
import { type RunningProcess, run } from '../support/process';
import { packageJson } from '../support/repo';

type FlowNode = Record<string, unknown> & { id: string; type: string; name?: string };

/**
 * How long a step's statuses may take: the guides' longest wait is the home's step 4 (60 s start
 * delay, ~30 s ramp, the verification: ~95 s), with room for a loaded machine.
 */
const STEP_TIMEOUT_MS = 180_000;

/**
 * Issue #38: the car-park and home-PV commissioning guides followed as an integrator follows them,
 * from the packed tarball in a fresh Node-RED user directory: each guide's example imported from
 * Node-RED's example library, changed as its section "No hardware yet" says, the simulators
 * started with the guide's own commands (the installed package's `ampflow-modbus-sim` and
 * `ampflow-sim`: real Modbus, real WebSockets), its meter lines typed into the meter simulator.
 * What each step must show is the guide's table of statuses, read from the guide: a guide whose
 * table the product does not follow fails here. The ports are free ones in place of the guide's.
 * Both guides run at once in one Node-RED (each waits out its own delays: the PV start delay of
 * 60 s is most of the time).
 */
describe(`the commissioning guides followed from the packed tarball (Node-RED ${nodeRedVersion()})`, function () {
  // Each guide checks at most three steps, each within STEP_TIMEOUT_MS.
  this.timeout(STEP_TIMEOUT_MS * 3 + 30_000);
  let dir: string;
  let userDir: string;
  let nodeRed: NodeRed | undefined;
  let statuses: NodeStatuses | undefined;
  const simulators: RunningProcess[] = [];
  const followed = new Map<string, Promise<string[]>>();

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), 'ampflow-guides-'));
    userDir = join(dir, 'user');
    installedPackage(userDir);
    nodeRed = await startNodeRed({ userDir, package: 'installed' });
    statuses = await NodeStatuses.of(nodeRed.url);
    const guides = [await carPark(), await homePv()];
    // Step 1 of each: the meter simulator; step 2: the flow, both deployed at once.
    for (const guide of guides) await guide.meter.waitForLine(/^ampflow-modbus-sim: serving /);
    await nodeRed.deploy(guides.flatMap((guide) => guide.flow));
    for (const guide of guides) {
      const result = follow(guide).catch((err: Error) => [err.message]);
      followed.set(guide.name, result);
    }
  });

  after(async () => {
    statuses?.close();
    await Promise.all(simulators.map((simulator) => simulator.stop('SIGINT')));
    await nodeRed?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('car park behind a gateway meter: every status of the guide is reached', async () => {
    assert.deepEqual(await followed.get('car-park-gateway-meter'), []);
  });

  it('home with PV: every status of the guide is reached', async () => {
    assert.deepEqual(await followed.get('home-pv'), []);
  });

  interface Guide {
    name: string;
    simulation: GuideSimulation;
    flow: FlowNode[];
    meter: RunningProcess;
    /** The guide's steps from 3 on: what the integrator does at each. */
    steps: Map<number, () => Promise<void> | void>;
  }

  /** docs/commissioning/car-park-gateway-meter.md, "No hardware yet". */
  async function carPark(): Promise<Guide> {
    const name = 'car-park-gateway-meter';
    const simulation = guideSimulation(name);
    const ports = { 1510: await freePort(), 9010: await freePort() };
    const flow = await example('Scenario - Car park with a DLM meter');
    // Step 2: bus Host 127.0.0.1, Port 1510; central system One car per tag "no tag".
    const centralSystem = named(flow, 'ampflow-central-system', 'Car park central system (DLM meter)');
    assert.equal(centralSystem.port, '9010', 'the example listens where the guide dials');
    Object.assign(centralSystem, { oneTransactionPerTag: 'none', port: String(ports[9010]) });
    Object.assign(named(flow, 'ampflow-modbus-bus', 'Gateway RS485 bus'), {
      host: '127.0.0.1',
      port: String(ports[1510]),
    });
    const [meterCommand, ...chargerCommands] = simulation.commands;
    const meter = simulator(meterCommand, ports, true);
    return {
      name,
      simulation,
      flow,
      meter,
      steps: new Map<number, () => void | Promise<void>>([
        [3, () => void chargerCommands.map((command) => simulator(command, ports))],
        // Ctrl-C on ampflow-modbus-sim.
        [4, async () => void (await meter.stop('SIGINT'))],
      ]),
    };
  }

  /** docs/commissioning/home-pv.md, "No hardware yet". */
  async function homePv(): Promise<Guide> {
    const name = 'home-pv';
    const simulation = guideSimulation(name);
    const ports = { 1511: await freePort(), 9011: await freePort() };
    const flow = await example('Scenario - Home PV surplus charging');
    const centralSystem = named(flow, 'ampflow-central-system', 'Central system (home)');
    assert.equal(centralSystem.port, '9011', 'the example listens where the guide dials');
    centralSystem.port = String(ports[9011]);
    // Step 2: both buses Modbus TCP on 127.0.0.1:1511, the inverter at unit 2, the grid meter
    // `other loads only`.
    for (const bus of ['RS485 grid meter', 'PV inverter'])
      Object.assign(named(flow, 'ampflow-modbus-bus', bus), {
        transport: 'tcp',
        host: '127.0.0.1',
        port: String(ports[1511]),
      });
    named(flow, 'ampflow-meter', 'PV inverter').unitId = '2';
    const dlm = named(flow, 'ampflow-dlm', 'PV surplus');
    const site = JSON.parse(String(dlm.site)) as { circuits: { id: string; meter: { location: string } }[] };
    const house = site.circuits.find((circuit) => circuit.id === 'house');
    assert.ok(house, 'the example has the circuit house');
    house.meter.location = 'otherLoadsOnly';
    dlm.site = JSON.stringify(site, null, 2);
    const [meterCommand, wallboxCommand] = simulation.commands;
    const meter = simulator(meterCommand, ports, true);
    return {
      name,
      simulation,
      flow,
      meter,
      steps: new Map<number, () => void | Promise<void>>([
        [3, () => void simulator(wallboxCommand, ports)],
        // The sun: the lines typed into the meter's terminal.
        [4, () => void meter.child.stdin?.write(simulation.typed.map((line) => `${line}\n`).join(''))],
      ]),
    };
  }

  /** Runs the guide's steps in order; after each, waits for its rows of the table. */
  async function follow(guide: Guide): Promise<string[]> {
    const failures: string[] = [];
    const steps = [...new Set(guide.simulation.statuses.map((row) => row.step))].sort((a, b) => a - b);
    let done = 0;
    for (const step of steps) {
      // What a node showed before the step's action does not count for it (steps 1 and 2, with
      // no action here: everything since the deploy counts).
      const acting = [...guide.steps.keys()].some((at) => at > done && at <= step);
      const mark = acting ? (statuses?.mark() ?? new Map<string, number>()) : new Map<string, number>();
      for (const [at, act] of guide.steps) if (at > done && at <= step) await act();
      done = step;
      const since = Date.now();
      for (const row of guide.simulation.statuses.filter((r) => r.step === step)) {
        const failure = await reached(guide, row, mark, STEP_TIMEOUT_MS - (Date.now() - since));
        if (failure) failures.push(`${guide.name} step ${row.step}, ${row.where}: ${failure}`);
      }
    }
    return failures;
  }

  /** Waits until `row.where` has shown `row.status`; returns what it showed instead. */
  async function reached(
    guide: Guide,
    row: GuideStatus,
    mark: Map<string, number>,
    timeoutMs: number,
  ): Promise<string | undefined> {
    const pattern = statusPattern(row.status);
    const charger = /^Chargers sidebar, `([^`]+)`$/.exec(row.where)?.[1];
    if (charger) return await sidebarShows(charger, pattern, timeoutMs);
    const node = nodeOf(guide.flow, row.where);
    const shown = () => (statuses?.textsOf(node.id, mark) ?? []).some((text) => pattern.test(text));
    try {
      await statuses?.until(shown, timeoutMs);
      return undefined;
    } catch {
      return `"${row.status}" not shown within ${Math.round(timeoutMs / 1000)} s; it showed ${JSON.stringify(statuses?.textsOf(node.id, mark).slice(-8))}`;
    }
  }

  /** A status as the guide writes it: `…` stands for any text, `<n>`, `<A>` for a number. */
  function statusPattern(status: string): RegExp {
    const parts = status.split(/(…|<[^>\s]+>)/);
    const source = parts.map((part) =>
      part === '…'
        ? '.*'
        : /^<.+>$/.test(part)
          ? '-?\\d+(?:\\.\\d+)?'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
    return new RegExp(`^${source.join('')}$`);
  }

  /** Polls the Chargers sidebar's listing (no event says when a reason changes). */
  async function sidebarShows(
    charger: string,
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    for (;;) {
      const listing = (await (
        await nodeRed?.request('/ampflow-central-system/chargers')
      )?.json()) as SidebarCentralSystem[];
      const lines = listing
        .flatMap((cs) => cs.chargePoints)
        .filter((cp) => cp.chargePointId === charger)
        .flatMap((cp) => cp.decisions.map((d) => `${d.connectorId}: ${d.limitA} A, ${d.reason}`));
      if (lines.some((line) => pattern.test(line))) return undefined;
      for (const line of lines) if (seen.at(-1) !== line) seen.push(line);
      if (Date.now() > deadline)
        return `${pattern} not shown within ${Math.round(timeoutMs / 1000)} s; it showed ${JSON.stringify(seen.slice(-8))}`;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The node a table row names: `meter *name*`, `load manager *name*`, `charging-profile node`. */
  function nodeOf(flow: FlowNode[], where: string): FlowNode {
    if (where === 'charging-profile node') {
      const nodes = flow.filter((node) => node.type === 'ampflow-charging-profile');
      assert.equal(nodes.length, 1, 'one charging-profile node in the example');
      return nodes[0] as FlowNode;
    }
    const match = /^(meter|load manager) \*([^*]+)\*$/.exec(where);
    if (!match)
      throw new Error(
        `the guide's table names "${where}": expected meter *name*, load manager *name*, charging-profile node or Chargers sidebar, \`identity\``,
      );
    return named(flow, match[1] === 'meter' ? 'ampflow-meter' : 'ampflow-dlm', match[2] as string);
  }

  /** An example as the editor's Import > Examples reads it from the installed package. */
  async function example(title: string): Promise<FlowNode[]> {
    const response = await nodeRed?.request(
      `/library/examples/flows/${packageJson.name}/${encodeURIComponent(title)}`,
    );
    assert.equal(response?.status, 200, `the example "${title}" is in Node-RED's example library`);
    return (await response?.json()) as FlowNode[];
  }

  function named(flow: FlowNode[], type: string, name: string): FlowNode {
    const node = flow.find((n) => n.type === type && n.name === name);
    assert.ok(node, `the example has a ${type} named "${name}"`);
    return node;
  }

  /**
   * A guide's `npx <bin> ...` command run as npx runs it in the user directory (its
   * node_modules/.bin), with the guide's ports replaced by free ones.
   */
  function simulator(
    command: string | undefined,
    ports: Record<number, number>,
    input = false,
  ): RunningProcess {
    let line = command ?? '';
    for (const [from, to] of Object.entries(ports))
      line = line.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
    const [npx, bin, ...args] = line.split(/\s+/);
    assert.ok(npx === 'npx' && bin, `a guide's command is \`npx <bin> ...\`: ${command}`);
    const started = run(join(userDir, 'node_modules', '.bin', bin), args, { cwd: userDir, input });
    simulators.push(started);
    return started;
  }
});
