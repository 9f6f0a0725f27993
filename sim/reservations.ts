import type { Connector, Reservation } from './connectors';

/**
 * The reservation a start of `idTag` on `c` fulfils, 'blocked' when a reservation keeps the tag
 * out (5.13), or undefined when no reservation is involved. `freeOthers`: the connectors other
 * than `c` a new transaction could start on that have no EV.
 */
export function reservationFor(
  reservations: ReadonlyMap<number, Reservation>,
  c: Connector,
  idTag: string,
  parentIdTag: string | undefined,
  freeOthers: () => Connector[],
): Reservation | 'blocked' | undefined {
  const matches = (r: Reservation) =>
    r.idTag === idTag || (r.parentIdTag !== undefined && r.parentIdTag === parentIdTag);
  const own = [...reservations.values()].find((r) => r.connectorId === c.id);
  if (own) return matches(own) ? own : 'blocked';
  const anyConnector = [...reservations.values()].find((r) => r.connectorId === 0);
  if (!anyConnector) return undefined;
  if (matches(anyConnector)) return anyConnector;
  // A reservation on connector 0 keeps one connector free for its id tag (5.13).
  return freeOthers().length > 0 ? undefined : 'blocked';
}
