import type { Logger } from '../log';
import { DurableLog, type StoreIo } from '../store/durable-log';
import {
  applyEvent,
  type CentralEvent,
  type CentralState,
  initialCentralState,
  isArchivedEvent,
} from './central-state';

/**
 * Opens the central system's durable state in `directory` (created if missing): the journal,
 * snapshots and the archive of finished sessions (lib/store/durable-log).
 */
export async function openDurableStateLog(
  directory: string,
  log: Logger,
  onStop: (error: Error) => void,
  io?: Partial<StoreIo>,
) {
  return await DurableLog.open<CentralState, CentralEvent>({
    directory,
    initialState: initialCentralState,
    apply: applyEvent,
    isArchived: isArchivedEvent,
    log,
    onStop,
    ...(io ? { io } : {}),
  });
}
