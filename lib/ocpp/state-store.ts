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
  const store = await DurableLog.open<CentralState, CentralEvent>({
    directory,
    initialState: initialCentralState,
    apply: applyEvent,
    isArchived: isArchivedEvent,
    log,
    onStop,
    ...(io ? { io } : {}),
  });
  upgradeChargerFacts(store.state);
  return store;
}

/** Snapshots written before rooms kept facts by name hold the profile manager's as `smartCharging`. */
function upgradeChargerFacts(state: CentralState): void {
  for (const charger of Object.values(state.chargers)) {
    const legacy = charger as { smartCharging?: { at: string; facts: unknown } };
    if (legacy.smartCharging === undefined) continue;
    charger.facts = { profiles: legacy.smartCharging, ...charger.facts };
    delete legacy.smartCharging;
  }
}
