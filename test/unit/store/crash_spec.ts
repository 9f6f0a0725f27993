import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { DurableLog } from '../../../lib/store/durable-log';
import { type CrashEvent, type CrashState, crashStoreOptions } from '../../support/store-crash-child';

const childFile = join(__dirname, '../../support/store-crash-child.ts');

/** A small seeded generator, so a failing run can be repeated with AMPFLOW_CRASH_SEED. */
function seededRandom(seed: number): () => number {
  let value = seed >>> 0;
  return () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(value ^ (value >>> 15), 1 | value);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

interface KilledRun {
  ackedStarted: number[];
  ackedClosed: number[];
  /** The last file operation the child announced before it died. */
  lastOperation: string;
}

/**
 * Runs the child on `directory` until it has printed `killAfterAcks` acks and then announced
 * `thenFileOperations` more file operations (so kills land in every step of a compaction, not
 * just after an ack), kills it with SIGKILL, and returns every ack it printed, including those
 * that arrived after the kill was sent.
 */
function runAndKill(
  childBundle: string,
  directory: string,
  compactAfterEvents: number,
  killAfterAcks: number,
  thenFileOperations: number,
): Promise<KilledRun> {
  const child: ChildProcess = spawn(process.execPath, [childBundle, directory, String(compactAfterEvents)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: KilledRun = { ackedStarted: [], ackedClosed: [], lastOperation: 'none' };
  const stderr: string[] = [];
  let acks = 0;
  let operationsToGo = thenFileOperations;
  let killed = false;
  const killWhenDue = () => {
    if (killed || acks < killAfterAcks || operationsToGo > 0) return;
    killed = true;
    child.kill('SIGKILL');
  };
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, what, id] = line.split(' ');
      if (kind === 'io') {
        run.lastOperation = `${what}${id ? ` ${id}` : ''}`;
        if (acks >= killAfterAcks) operationsToGo -= 1;
      } else if (kind === 'acked') {
        (what === 'txStarted' ? run.ackedStarted : run.ackedClosed).push(Number(id));
        acks += 1;
      }
      killWhenDue();
    });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child made only ${acks} of ${killAfterAcks} acks in 20 s:\n${stderr.join('')}`));
    }, 20_000);
    child.on('error', reject);
    // 'close' comes after the exit and after all its output has been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(run);
      else reject(new Error(`the child exited by itself (${signal ?? code}):\n${stderr.join('')}`));
    });
  });
}

interface Acked {
  started: Set<number>;
  closed: Set<number>;
}

/** Reopens the store the way the central system would after the crash, and checks everything acked is there. */
async function verifyAfterCrash(directory: string, acked: Acked, context: string): Promise<CrashState> {
  const log = await DurableLog.open<CrashState, CrashEvent>(crashStoreOptions(directory, 1000));
  try {
    const { state } = log;
    for (const id of acked.started)
      assert.ok(state.started.includes(id), `${context}: acked txStarted ${id} lost`);
    for (const id of acked.closed)
      assert.ok(state.closed.includes(id), `${context}: acked sessionClosed ${id} lost`);
    state.started.forEach((id, index) => {
      assert.equal(id, index + 1, `${context}: transaction ids must be 1, 2, 3, ... without repeats`);
    });
    assert.equal(state.nextTransactionId, state.started.length + 1, context);
    assert.equal(new Set(state.closed).size, state.closed.length, `${context}: a session closed twice`);
    const archived: number[] = [];
    for await (const event of log.archive()) {
      assert.equal(event.type, 'sessionClosed', context);
      archived.push(event.transactionId);
    }
    // Exactly the closed sessions, once each, in order: no duplicates and no gaps.
    assert.deepEqual(archived, state.closed, `${context}: the archive differs from the sessions closed`);
    return state;
  } finally {
    await log.close();
  }
}

describe('DurableLog under SIGKILL', function () {
  this.timeout(60_000);
  const seed = Number(process.env.AMPFLOW_CRASH_SEED ?? Date.now() % 1_000_000);
  const directories: string[] = [];
  const newDirectory = () => {
    const directory = mkdtempSync(join(tmpdir(), 'durable-log-crash-'));
    directories.push(directory);
    return directory;
  };

  /**
   * The child, bundled once (esbuild, as tsx builds it) instead of through tsx at each of the 50
   * starts: tsx's loader cost 0.2-0.5 s a start here. The same source, kills and checks.
   */
  let bundled = '';
  before(() => {
    const directory = newDirectory();
    bundled = join(directory, 'store-crash-child.cjs');
    buildSync({ entryPoints: [childFile], outfile: bundled, bundle: true, platform: 'node', format: 'cjs' });
  });

  after(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  /** Kills the child `kills` times; `sameDirectory` keeps one store across all of them. */
  /** Set when a lane fails, so the other lane stops instead of running on after the test. */
  let failed = false;

  async function killRepeatedly(lane: string, kills: number, sameDirectory: boolean): Promise<string[]> {
    const random = seededRandom(seed + lane.length);
    const landedIn: string[] = [];
    let directory = newDirectory();
    let acked: Acked = { started: new Set(), closed: new Set() };
    for (let kill = 1; kill <= kills && !failed; kill += 1) {
      if (!sameDirectory && kill > 1) {
        directory = newDirectory();
        acked = { started: new Set(), closed: new Set() };
      }
      const compactAfterEvents = 2 + Math.floor(random() * 20);
      const killAfterAcks = 1 + Math.floor(random() * 150);
      const thenFileOperations = Math.floor(random() * 16);
      const context =
        `seed ${seed}, ${lane} kill ${kill} (compactAfterEvents ${compactAfterEvents}, ` +
        `after ${killAfterAcks} acks and ${thenFileOperations} file operations)`;
      const run = await runAndKill(bundled, directory, compactAfterEvents, killAfterAcks, thenFileOperations);
      for (const id of run.ackedStarted) acked.started.add(id);
      for (const id of run.ackedClosed) acked.closed.add(id);
      landedIn.push(run.lastOperation);
      await verifyAfterCrash(directory, acked, context);
    }
    return landedIn;
  }

  it('loses no acknowledged event and repeats no id or archive entry over 50 kills', async () => {
    // Two lanes at once: one store killed 30 times in a row, and 20 stores killed once each.
    const lanes = await Promise.allSettled(
      [killRepeatedly('continuing', 30, true), killRepeatedly('fresh', 20, false)].map((lane) =>
        lane.catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const landedIn: string[] = [];
    for (const lane of lanes) {
      if (lane.status === 'rejected') throw lane.reason;
      landedIn.push(...lane.value);
    }
    assert.equal(landedIn.length, 50);
    if (process.env.AMPFLOW_TEST_VERBOSE) {
      const counts = new Map<string, number>();
      for (const where of landedIn) counts.set(where, (counts.get(where) ?? 0) + 1);
      console.log(`    seed ${seed}; last file operation before each kill:`, Object.fromEntries(counts));
    }
  });
});
