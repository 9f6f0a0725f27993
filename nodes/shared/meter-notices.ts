/**
 * What a load manager says of a meter it does not believe (a reading below the chargers' own, a
 * negative current where nothing exports, a frozen value: lib/dlm/evidence/meter-plausibility.ts), shown
 * where the installer looks for the meter: on the meter node, by the name its readings carry. Glue
 * between two nodes of one runtime; the judgement is the load manager's.
 */

type Listener = (notice: string | undefined) => void;

const listeners = new Map<string, Set<Listener>>();
const notices = new Map<string, string>();

/** A meter node listens for notices about the readings it names `source`; returns how to stop. */
export function listenForMeterNotice(source: string, listener: Listener): () => void {
  const set = listeners.get(source) ?? new Set<Listener>();
  set.add(listener);
  listeners.set(source, set);
  const current = notices.get(source);
  if (current !== undefined) listener(current);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(source);
  };
}

/** A load manager's judgement of a meter's readings: why they are not believed, or undefined again. */
export function noticeMeter(source: string, notice: string | undefined): void {
  if (notices.get(source) === notice) return;
  if (notice === undefined) notices.delete(source);
  else notices.set(source, notice);
  for (const listener of listeners.get(source) ?? []) listener(notice);
}
