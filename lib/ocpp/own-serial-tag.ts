import type { BootNotificationRequest } from './messages';

/**
 * A Schneider EVlink with authentication off starts every session with an id tag of its own: its
 * Default User ID Tag (key `defaultIdTag`), and where that is `UNDEFINED`, its serial number
 * (EVlink commissioning guide, vendor doc 004, *Default User ID Tag*). An id-tag list does not know
 * that serial, so the session is refused and the station stops it. When a refused tag is the
 * charger's own serial number (from its BootNotification), this says what it is and what to do.
 */
export function ownSerialHint(idTag: string, boot: BootNotificationRequest | undefined): string | undefined {
  const tag = idTag.trim().toUpperCase();
  const serials = [boot?.chargeBoxSerialNumber, boot?.chargePointSerialNumber].filter(
    (serial): serial is string => typeof serial === 'string' && serial.trim() !== '',
  );
  if (tag === '' || !serials.some((serial) => serial.trim().toUpperCase() === tag)) return undefined;
  return "it is the charger's own serial number, which a charger with its authentication off sends as the id tag (Schneider EVlink: Default User ID Tag UNDEFINED): set its Default User ID Tag (key defaultIdTag) to a tag the id-tag list accepts (or to the central system's free-charging tag), add the serial to the list, or turn the charger's authentication on";
}
