/**
 * The process test/unit/store/crash_spec.ts kills with SIGKILL. Run as
 * `node --require tsx/cjs store-crash-child.ts <directory> <compactAfterEvents>` (the test runs the
 * same source bundled by esbuild): opens the store in <directory> and appends events from several
 * concurrent "chargers" until killed, printing `acked <type> <transactionId>` after each append has
 * resolved (so the event is durable), and `io <operation> <file>` before every file operation, to
 * show where the kill landed.
 */
import { basename } from 'node:path';
import { DurableLog, type DurableLogOptions } from '../../lib/store/durable-log';
import { nodeStoreIo } from '../../lib/store/files';

export interface CrashState {
  nextTransactionId: number;
  /** Every transaction id ever started, in order. */
  started: number[];
  open: number[];
  /** Every transaction closed, in the order they were closed: the archive must hold exactly these. */
  closed: number[];
}

export type CrashEvent =
  | { type: 'txStarted'; transactionId: number; chargePointId: string }
  | { type: 'sessionClosed'; transactionId: number; energyWh: number };

export function crashStoreOptions(
  directory: string,
  compactAfterEvents: number,
): DurableLogOptions<CrashState, CrashEvent> {
  return {
    directory,
    compactAfterEvents,
    initialState: () => ({ nextTransactionId: 1, started: [], open: [], closed: [] }),
    apply(state, event) {
      if (event.type === 'txStarted') {
        // The store must never let an id be issued twice; a replay that tried would fail here.
        if (event.transactionId !== state.nextTransactionId) {
          throw new Error(`txStarted ${event.transactionId}, expected ${state.nextTransactionId}`);
        }
        state.nextTransactionId += 1;
        state.started.push(event.transactionId);
        state.open.push(event.transactionId);
      } else {
        const index = state.open.indexOf(event.transactionId);
        if (index === -1) throw new Error(`sessionClosed ${event.transactionId}, which is not open`);
        state.open.splice(index, 1);
        state.closed.push(event.transactionId);
      }
    },
    isArchived: (event) => event.type === 'sessionClosed',
  };
}

function print(line: string): void {
  // Writes to a pipe are synchronous on Linux, so the line is out before the next operation.
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const [directory, compactAfterEventsText] = process.argv.slice(2);
  if (!directory || !compactAfterEventsText)
    throw new Error('usage: store-crash-child <directory> <compactAfterEvents>');
  const log = await DurableLog.open({
    ...crashStoreOptions(directory, Number(compactAfterEventsText)),
    io: {
      async write(handle, data, path) {
        print(`io write ${basename(path)}`);
        await nodeStoreIo.write(handle, data, path);
      },
      async sync(handle, path) {
        print(`io sync ${basename(path)}`);
        await nodeStoreIo.sync(handle, path);
      },
      async syncDirectory(path) {
        print('io syncDirectory');
        await nodeStoreIo.syncDirectory(path);
      },
      async rename(from, to) {
        print(`io rename ${basename(from)}`);
        await nodeStoreIo.rename(from, to);
      },
    },
  });
  print(`opened ${log.state.nextTransactionId}`);
  const chargers = 8;
  await Promise.all(
    Array.from({ length: chargers }, async (_, charger) => {
      for (let n = 0; ; n += 1) {
        const oldestOpen = log.state.open[0];
        const event: CrashEvent =
          oldestOpen !== undefined && (n + charger) % 3 === 0
            ? { type: 'sessionClosed', transactionId: oldestOpen, energyWh: 1000 + n }
            : {
                type: 'txStarted',
                transactionId: log.state.nextTransactionId,
                chargePointId: `CP-${charger}`,
              };
        await log.append(event);
        print(`acked ${event.type} ${event.transactionId}`);
      }
    }),
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
