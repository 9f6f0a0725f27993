/**
 * The load manager's reasons as message keys with parameters, and their words in English and
 * German: the one home of every sentence a reason is made of. A stage that words a reason makes
 * it here (`say(key, params)`: a `Said`, typed so that a key must be in the catalogue and its
 * parameters the template's); the English text the summary, the set-points and the logs carry is
 * rendered from the same entry as the German (`english`, `sayReason`), so no English sentence is
 * written outside it (test/unit/dlm/words_spec.ts scans lib/dlm for one). The catalogue is a
 * top-level file that imports nothing, so the earliest stage that words a reason can import it.
 * A reason is parts joined by `; `; a parameter that is itself a reason (the bound that holds a
 * car, a fallback's cause) is kept as one, so it is translated too; a name (a circuit's, a
 * charger's), a price or a number stays as it is.
 */

/** A reason's part: a catalogue key and its parameters (numbers as text, in English form). */
export interface Said {
  key: string;
  params?: Record<string, string | Said[]>;
}

/** A reason: its parts, said one after the other (`; ` between them). */
export type Reason = Said[];

export type Language = 'en' | 'de';

/**
 * Every part a reason can have, `{name}` for a parameter. The German words name the same thing as
 * the English ones; a test checks that no English word is left in them and that both have the same
 * parameters (test/unit/dlm/words_spec.ts). `text` is no wording of ampflow's: a text given from
 * outside (a site limit's reason sent by a command, an expression's error) shown as it came.
 */
export const REASON_WORDS = {
  // Why a connector gets nothing or is not counted (allocation/from-update.ts).
  unknownState: {
    en: 'unknown state: counted at {amps} A until the charger reports',
    de: 'Zustand unbekannt: mit {amps} A gerechnet, bis die Ladestation meldet',
  },
  neverConnected: {
    en: 'configured, never connected: nothing reserved until it connects',
    de: 'eingerichtet, nie verbunden: nichts freigehalten, bis sie sich verbindet',
  },
  offline: { en: 'offline: counted at {amps} A ({why})', de: 'offline: mit {amps} A gerechnet ({why})' },
  idle: { en: 'idle: {status}', de: 'untätig: {status}' },
  noStatus: { en: 'no status', de: 'kein Zustand' },
  modeOff: { en: 'off: mode off', de: 'aus: Modus aus' },
  pvNoMeter: { en: 'pv: no fresh grid meter reading', de: 'PV: kein frischer Wert vom Netzzähler' },
  pvOthersTake: {
    en: 'pv: waiting, the cars charging take the surplus ({surplusW} W; they can take {moreW} W more than their minimum)',
    de: 'PV: wartet, die ladenden Fahrzeuge nehmen den Überschuss ({surplusW} W; sie können {moreW} W mehr als ihr Minimum nehmen)',
  },
  pvStartsOn: {
    en: 'starts on {needW} W they cannot take',
    de: 'startet bei {needW} W, die sie nicht nehmen können',
  },
  pvEnough: { en: 'pv: enough surplus', de: 'PV: genug Überschuss' },
  pvCloudsOnce: {
    en: 'clouds stopped it 1 time, so it starts once the surplus beyond its minimum has put by {neededWh} Wh ({paidWh} Wh so far)',
    de: 'Wolken haben es 1 Mal gestoppt, daher startet es, sobald der Überschuss über seinem Minimum {neededWh} Wh angespart hat (bisher {paidWh} Wh)',
  },
  pvClouds: {
    en: 'clouds stopped it {n} times, so it starts once the surplus beyond its minimum has put by {neededWh} Wh ({paidWh} Wh so far)',
    de: 'Wolken haben es {n} Mal gestoppt, daher startet es, sobald der Überschuss über seinem Minimum {neededWh} Wh angespart hat (bisher {paidWh} Wh)',
  },
  pvEnoughFor: {
    en: 'pv: enough surplus for {s} s, starting after {delayS} s',
    de: 'PV: seit {s} s genug Überschuss, Start nach {delayS} s',
  },
  pvWaitingLeft: {
    en: "pv: waiting for surplus ({surplusW} W, {leftW} W of it left after the other cars' minimum; needs {needW} W)",
    de: 'PV: wartet auf Überschuss ({surplusW} W, davon {leftW} W übrig nach dem Minimum der anderen Fahrzeuge; braucht {needW} W)',
  },
  pvWaiting: {
    en: 'pv: waiting for surplus ({surplusW} W of {needW} W)',
    de: 'PV: wartet auf Überschuss ({surplusW} W von {needW} W)',
  },
  carTakesNoLess: {
    en: 'the car takes no less than {amps} A ({why})',
    de: 'das Fahrzeug nimmt nicht weniger als {amps} A ({why})',
  },
  minimumOffTime: { en: 'paused: minimum off time ({s} s left)', de: 'pausiert: Mindestpause ({s} s übrig)' },
  // The reason of a set-point (report/explain.ts).
  startingWhenPossible: {
    en: 'starting at {amps} A when possible: {why}',
    de: 'startet mit {amps} A, sobald möglich: {why}',
  },
  resting: {
    en: 'resting (the car stopped on its own): its minimum {amps} A from what the charging cars leave',
    de: 'ruht (das Fahrzeug hat von selbst gestoppt): sein Minimum {amps} A aus dem, was die ladenden Fahrzeuge übrig lassen',
  },
  forNowNoneBecause: { en: 'for now none ({why})', de: 'vorerst nichts ({why})' },
  forNowNone: { en: 'for now none', de: 'vorerst nichts' },
  pausedCarMinimum: {
    en: "paused: {why} for the minimum {amps} A (the car's, {minWhy})",
    de: 'pausiert: {why} für das Minimum von {amps} A (das des Fahrzeugs, {minWhy})',
  },
  paused: {
    en: 'paused: {why} for the minimum {amps} A',
    de: 'pausiert: {why} für das Minimum von {amps} A',
  },
  notEnoughCurrent: { en: 'not enough current', de: 'nicht genug Strom' },
  limited: { en: 'limited: {why}', de: 'begrenzt: {why}' },
  thenUpTo: { en: '{why} (then up to {amps} A)', de: '{why} (danach bis {amps} A)' },
  rampingUpFor: { en: 'ramping up to {amps} A ({plan})', de: 'steigt auf {amps} A ({plan})' },
  rampingUp: { en: 'ramping up to {amps} A', de: 'steigt auf {amps} A' },
  holding: {
    en: 'holding {amps} A (change below {minChangeA} A)',
    de: 'hält {amps} A (Änderung unter {minChangeA} A)',
  },
  limitedTo: { en: 'limited to {amps} A', de: 'begrenzt auf {amps} A' },
  maximum: { en: 'maximum {amps} A', de: 'Maximum {amps} A' },
  pvShortfall: {
    en: 'PV surplus, {kW} kW from the grid to keep the minimum',
    de: 'PV-Überschuss, {kW} kW aus dem Netz, um das Minimum zu halten',
  },
  readingRefused: { en: 'reading refused: {why}', de: 'Messwert verworfen: {why}' },
  byEnergyRegister: {
    en: 'measured by its energy register (it reports no current)',
    de: 'über ihren Energiezähler gemessen (sie meldet keinen Strom)',
  },
  withoutPhase: {
    en: 'current reported without phase: counted on {phases}',
    de: 'Strom ohne Phase gemeldet: auf {phases} gerechnet',
  },
  withoutPhaseOnOne: {
    en: 'current reported without phase: counted on {phases} (its energy register shows one phase)',
    de: 'Strom ohne Phase gemeldet: auf {phases} gerechnet (ihr Energiezähler zeigt eine Phase)',
  },
  itTwoConductors: { en: 'L1-L2 (IT: two conductors)', de: 'L1-L2 (IT: zwei Leiter)' },
  iso15118: { en: 'ISO 15118', de: 'ISO 15118' },
  carMinimum: { en: "the car's minimum {amps} A ({why})", de: 'Minimum des Fahrzeugs {amps} A ({why})' },
  // What bound a connector (report/explain.ts describeBound).
  maxWithWhy: { en: '{why} ({amps} A)', de: '{why} ({amps} A)' },
  itsMaximum: { en: 'its maximum', de: 'sein Maximum' },
  limitWord: { en: 'limit', de: 'Grenze' },
  phaseFull: { en: '{circuit} L{phase} is full', de: '{circuit} L{phase} ist voll' },
  powerLimit: { en: 'power limit of {circuit}', de: 'Leistungsgrenze von {circuit}' },
  chargersPower: { en: '{why} on {circuit}', de: '{why} auf {circuit}' },
  siteLimit: { en: 'site limit', de: 'Standortgrenze' },
  unbalanceLimit: { en: 'unbalance limit of {circuit}', de: 'Schieflastgrenze von {circuit}' },
  pvSurplus: { en: 'PV surplus', de: 'PV-Überschuss' },
  // Caps (evidence/observer.ts view, circuit-view.ts, control/offline-fit.ts, modes/pv.ts).
  backendAllows: {
    en: "the operator's backend allows {amps} A",
    de: 'das Backend des Betreibers erlaubt {amps} A',
  },
  carTakesAtMost: {
    en: 'the car takes at most {amps} A (ISO 15118)',
    de: 'das Fahrzeug nimmt höchstens {amps} A (ISO 15118)',
  },
  carDraws: { en: 'car draws {amps} A', de: 'Fahrzeug zieht {amps} A' },
  phasesProbe: {
    en: 'lowered once below the {amps} A its car draws, to tell its phases by the energy register',
    de: 'einmal unter die {amps} A des Fahrzeugs gesenkt, um seine Phasen am Energiezähler zu erkennen',
  },
  failSafeCap: {
    en: "held at the fail-safe's {amps} A per connector",
    de: 'auf den {amps} A je Anschluss der Notfallvorgabe gehalten',
  },
  keptLimitFits: {
    en: 'held at {amps} A: it keeps its last limit if ampflow stops, and that must fit (control.holdKeptLimits)',
    de: 'auf {amps} A gehalten: sie behält ihre letzte Grenze, wenn ampflow anhält, und die muss passen (control.holdKeptLimits)',
  },
  restingOffered: {
    en: 'resting (SuspendedEV): offered what the PV surplus leaves ({w} W)',
    de: 'ruht (SuspendedEV): angeboten, was der PV-Überschuss übrig lässt ({w} W)',
  },
  restingMinimum: {
    en: 'resting (SuspendedEV): offered its minimum, the PV surplus leaves {w} W',
    de: 'ruht (SuspendedEV): sein Minimum angeboten, der PV-Überschuss lässt {w} W übrig',
  },
  // Holds (control/policy.ts, control/pending-decreases.ts).
  atStart: {
    en: 'at its start until its charger shows it follows',
    de: 'auf seinem Startwert, bis die Ladestation zeigt, dass sie folgt',
  },
  waitingExpressions: {
    en: 'waiting for the priority and mode expressions',
    de: 'wartet auf die Ausdrücke für Priorität und Modus',
  },
  waitingDecrease: {
    en: 'waiting for {names} to follow a decrease',
    de: 'wartet auf {names}, bis eine Senkung befolgt ist',
  },
  namesFollowTime: {
    en: '{names} (no per-phase current readings from {blind}: its follow time)',
    de: '{names} (keine Strommesswerte je Phase von {blind}: ihre Folgezeit)',
  },
  namesAndMore: { en: '{names} and {n} more', de: '{names} und {n} weitere' },
  switchedThree: {
    en: 'switched to three phases: at its minimum until {names} follow a decrease',
    de: 'auf drei Phasen umgeschaltet: auf seinem Minimum, bis bei {names} eine Senkung befolgt ist',
  },
  // A car's own minimum (evidence/car-minimum.ts).
  learnedStopped: { en: 'learned: it stopped at {amps} A', de: 'gelernt: es hat bei {amps} A gestoppt' },
  learnedNotStarted: {
    en: 'learned: it did not start at {amps} A',
    de: 'gelernt: es ist bei {amps} A nicht gestartet',
  },
  // Chargers not under control (evidence/uncontrolled.ts).
  keepsForSession: {
    en: 'the limit it keeps for its running session, OCPP 1.6 §3.13.6',
    de: 'die Grenze, die sie für ihren laufenden Ladevorgang behält, OCPP 1.6 §3.13.6',
  },
  keepsLast: {
    en: 'the last limit it keeps (it took no offline fallback)',
    de: 'die letzte Grenze, die sie behält (sie hat keine Offline-Vorgabe angenommen)',
  },
  limitFailed: { en: 'its limit failed ({why})', de: 'ihre Grenze ist gescheitert ({why})' },
  refused: { en: 'refused', de: 'abgelehnt' },
  // A meter's own stale notice as ampflow-meter gives it (msg.staleCause): the system's error as it came.
  staleConnectionLost: { en: 'connection to {address} lost', de: 'Verbindung zu {address} verloren' },
  staleConnectionLostError: {
    en: 'connection to {address} lost ({fault})',
    de: 'Verbindung zu {address} verloren ({fault})',
  },
  staleNoConnection: { en: 'no connection to {address}', de: 'keine Verbindung zu {address}' },
  staleNoConnectionError: {
    en: 'no connection to {address} ({fault})',
    de: 'keine Verbindung zu {address} ({fault})',
  },
  staleReadFailed: { en: 'reading failed: {fault}', de: 'Lesen fehlgeschlagen: {fault}' },
  staleReadsFailed: {
    en: '{n} reads in a row failed: {fault}',
    de: '{n} Lesevorgänge nacheinander fehlgeschlagen: {fault}',
  },
  staleNothingRead: { en: 'nothing read for {s} s', de: 'seit {s} s nichts gelesen' },
  staleNoReason: { en: 'no reason given', de: 'kein Grund angegeben' },
  // A Modbus failure in a stale notice, from its data (msg.staleCause's `fault`, lib/readings.ts ModbusFault).
  faultTimeout: { en: 'no answer within {ms} ms', de: 'keine Antwort innerhalb von {ms} ms' },
  faultException: { en: 'exception {code} ({name})', de: 'Ausnahme {code} ({name})' },
  faultExceptionCode: { en: 'exception {code}', de: 'Ausnahme {code}' },
  exceptionIllegalFunction: { en: 'illegal function', de: 'unzulässige Funktion' },
  exceptionIllegalAddress: { en: 'illegal data address', de: 'unzulässige Datenadresse' },
  exceptionIllegalValue: { en: 'illegal data value', de: 'unzulässiger Datenwert' },
  exceptionDeviceFailure: { en: 'device failure', de: 'Gerätefehler' },
  exceptionAcknowledge: { en: 'acknowledge', de: 'Bestätigung, in Arbeit' },
  exceptionDeviceBusy: { en: 'device busy', de: 'Gerät beschäftigt' },
  exceptionParity: { en: 'memory parity error', de: 'Paritätsfehler im Speicher' },
  exceptionGatewayPath: { en: 'gateway path unavailable', de: 'Gateway-Pfad nicht verfügbar' },
  exceptionGatewayTarget: { en: 'gateway target did not respond', de: 'Gateway-Ziel hat nicht geantwortet' },
  faultWrongLength: {
    en: 'answer has {registers} registers, asked for {asked}',
    de: 'Antwort hat {registers} Register, angefragt waren {asked}',
  },
  faultUnusable: { en: 'unusable answer: {detail}', de: 'unbrauchbare Antwort: {detail}' },
  // Why an answer is unusable (lib/modbus/framing.ts, in modbus-serial's words the logs know).
  faultBadLength: {
    en: 'Data length error, expected {expected} got {got}',
    de: 'falsche Länge, erwartet {expected}, erhalten {got}',
  },
  faultWrongUnit: {
    en: 'Unexpected data error, expected address {expected} got {got}',
    de: 'unerwartete Daten, erwartet Adresse {expected}, erhalten {got}',
  },
  faultWrongFunction: {
    en: 'Unexpected data error, expected code {expected} got {got}',
    de: 'unerwartete Daten, erwartet Funktionscode {expected}, erhalten {got}',
  },
  faultByteCount: {
    en: 'byte count {got}, expected {expected}',
    de: 'Byteanzahl {got}, erwartet {expected}',
  },
  faultCrc: { en: 'CRC error', de: 'CRC-Fehler' },
  // The system's error code (a socket's, a serial port's) stays as it is, beside its words.
  faultSystem: { en: '{what} ({code})', de: '{what} ({code})' },
  faultSystemCode: { en: 'system error {code}', de: 'Systemfehler {code}' },
  systemRefused: { en: 'connection refused', de: 'Verbindung abgewiesen' },
  systemReset: { en: 'connection reset', de: 'Verbindung zurückgesetzt' },
  systemAborted: { en: 'connection aborted', de: 'Verbindung abgebrochen' },
  systemBroken: { en: 'connection broken', de: 'Verbindung unterbrochen' },
  systemTimedOut: { en: 'timed out', de: 'Zeitüberschreitung' },
  systemHostUnreachable: { en: 'host unreachable', de: 'Gerät nicht erreichbar' },
  systemNetUnreachable: { en: 'network unreachable', de: 'Netz nicht erreichbar' },
  systemNameNotFound: { en: 'host name not found', de: 'Rechnername nicht gefunden' },
  systemNoSuchPort: { en: 'no such port', de: 'Schnittstelle nicht vorhanden' },
  systemNoPermission: { en: 'permission denied', de: 'keine Berechtigung' },
  systemPortBusy: { en: 'port busy', de: 'Schnittstelle belegt' },
  faultConnectTimeout: { en: 'no connection within {ms} ms', de: 'keine Verbindung innerhalb von {ms} ms' },
  faultSilent: { en: 'nothing received for {s} s', de: 'seit {s} s nichts empfangen' },
  faultClosedByPeer: {
    en: 'connection closed by the other side',
    de: 'Verbindung von der Gegenseite geschlossen',
  },
  faultConnectionClosed: { en: 'connection closed', de: 'Verbindung geschlossen' },
  faultPortClosed: { en: 'serial port closed', de: 'serielle Schnittstelle geschlossen' },
  faultHungUp: {
    en: 'serial port hung up (end of file: adapter unplugged?)',
    de: 'serielle Schnittstelle getrennt (Dateiende: Adapter abgezogen?)',
  },
  faultReopened: {
    en: 'reopened to discard what a timed-out device sent late',
    de: 'neu geöffnet, um zu verwerfen, was ein Gerät nach Ablauf seiner Zeit noch sandte',
  },
  faultBusClosed: { en: 'the bus was closed', de: 'der Bus wurde geschlossen' },
  faultQueueFull: {
    en: 'the queue is full ({waiting} requests waiting): the bus cannot keep up; poll less often or split the devices over more buses',
    de: 'die Warteschlange ist voll ({waiting} Anfragen warten): der Bus kommt nicht nach; seltener abfragen oder die Geräte auf mehr Busse verteilen',
  },
  faultQueueTimeout: {
    en: 'waited {ms} ms for its turn: the bus is overloaded; poll less often or split the devices over more buses',
    de: '{ms} ms gewartet, bis sie an der Reihe war: der Bus ist überlastet; seltener abfragen oder die Geräte auf mehr Busse verteilen',
  },
  faultNotConnected: {
    en: 'the bus is not connected; waited {ms} ms',
    de: 'der Bus ist nicht verbunden; {ms} ms gewartet',
  },
  faultNotConnectedWhy: {
    en: 'the bus is not connected ({why}); waited {ms} ms',
    de: 'der Bus ist nicht verbunden ({why}); {ms} ms gewartet',
  },
  faultBrokeTwice: {
    en: 'the connection broke twice during this request',
    de: 'die Verbindung brach während dieser Anfrage zweimal ab',
  },
  faultBrokeTwiceWhy: {
    en: 'the connection broke twice during this request ({why})',
    de: 'die Verbindung brach während dieser Anfrage zweimal ab ({why})',
  },
  faultBackedOff: {
    en: 'unit not answering ({failures} failures in a row); next try in {s} s',
    de: 'Gerät antwortet nicht ({failures} Fehler nacheinander); nächster Versuch in {s} s',
  },
  faultBackedOffWhy: {
    en: 'unit not answering ({failures} failures in a row; last: {why}); next try in {s} s',
    de: 'Gerät antwortet nicht ({failures} Fehler nacheinander; zuletzt: {why}); nächster Versuch in {s} s',
  },
  // A limit's failure as lib/profiles gives it (ConnectorState.limitFailed.cause): OCPP's names as they are.
  refusedAction: { en: 'refused {action}', de: '{action} abgelehnt' },
  actionAnd: { en: '{action} and {other}', de: '{action} und {other}' },
  actionWays: { en: '{name} ({waysList})', de: '{name} ({waysList})' },
  configurationKey: { en: 'the configuration key', de: 'der Konfigurationsschlüssel' },
  // A name of OCPP's (a message, a profile purpose): the same in every language.
  ocppName: { en: '{name}', de: '{name}' },
  noWayNoSmartCharging: {
    en: 'no way to set a limit with strategy {name} (no SmartCharging feature profile)',
    de: 'keine Möglichkeit, eine Grenze zu setzen, mit Strategie {name} (kein SmartCharging-Funktionsprofil)',
  },
  noWayRefusedBefore: {
    en: 'no way to set a limit with strategy {name} (every method refused before)',
    de: 'keine Möglichkeit, eine Grenze zu setzen, mit Strategie {name} (jede Methode zuvor abgelehnt)',
  },
  unansweredWithin: {
    en: 'did not answer {name} within {within}',
    de: 'hat {name} nicht innerhalb von {within} beantwortet',
  },
  notUnderControlIdle: {
    en: '{why}: not under control, counted at {what} while a car can start there',
    de: '{why}: nicht unter Kontrolle, mit {what} gerechnet, solange dort ein Fahrzeug starten kann',
  },
  freeByUnavailable: {
    en: 'make the connector Unavailable (ChangeAvailability Inoperative) to free that current until its limits work',
    de: 'den Anschluss auf Unavailable setzen (ChangeAvailability Inoperative), um diesen Strom freizugeben, bis ihre Grenzen wirken',
  },
  notUnderControl: {
    en: '{why}: not under control, counted at {what}',
    de: '{why}: nicht unter Kontrolle, mit {what} gerechnet',
  },
  outOfService: {
    en: '{why}: Unavailable, no charge can start there: nothing reserved until a car may charge again',
    de: '{why}: Unavailable, dort kann kein Ladevorgang starten: nichts freigehalten, bis wieder ein Fahrzeug laden darf',
  },
  caughtIgnoring: { en: 'caught ignoring its limit', de: 'beim Überschreiten ihrer Grenze ertappt' },
  caughtTwice: {
    en: 'caught ignoring its limit twice this session ({drewA} A at a set-point of {amps} A)',
    de: 'in diesem Ladevorgang zweimal beim Überschreiten ihrer Grenze ertappt ({drewA} A bei einem Sollwert von {amps} A)',
  },
  lastConfirmed: { en: 'the last limit it confirmed', de: 'der letzten Grenze, die sie bestätigt hat' },
  whatRegisterShows: {
    en: 'what its energy register shows it draws',
    de: 'dem, was ihr Energiezähler als Bezug zeigt',
  },
  whatItDraws: { en: 'what it draws', de: 'dem, was sie zieht' },
  mostItsCarDrew: {
    en: 'the most its car drew this session ({amps} A) and a margin',
    de: 'dem Höchsten, was ihr Fahrzeug in diesem Ladevorgang zog ({amps} A), und einer Reserve',
  },
  drawsAbove: {
    en: 'the charger draws above its set-point: not raised until it follows',
    de: 'die Ladestation zieht mehr als ihren Sollwert: keine Erhöhung, bis sie folgt',
  },
  readingAbove: {
    en: 'its reading showed more than its set-point: not raised until one shows it follows',
    de: 'ihr Messwert zeigte mehr als ihren Sollwert: keine Erhöhung, bis einer zeigt, dass sie folgt',
  },
  fallbackProfile: { en: 'its fallback profile', de: 'ihr Ersatzprofil' },
  ownFallback: { en: 'its own fallback', de: 'ihr eigener Ersatzwert' },
  // A circuit's fallback (evidence/circuit-view.ts), said before its connectors' reasons.
  fallback: { en: 'fallback: {why}, {whatList}', de: 'Ersatzwerte: {why}, {whatList}' },
  nothingKnown: {
    en: 'nothing is known of its other loads: its connectors wait for a reading',
    de: 'von seinen übrigen Lasten ist nichts bekannt: seine Anschlüsse warten auf einen Messwert',
  },
  otherCountedAt: { en: 'other loads counted at {what}', de: 'übrige Lasten mit {what} gerechnet' },
  peak24: {
    en: '{amps} A (the most they drew in 24 h)',
    de: '{amps} A (das Höchste, was sie in 24 h zogen)',
  },
  peak24More: {
    en: '{amps} A (the most they drew in 24 h, {moreList})',
    de: '{amps} A (das Höchste, was sie in 24 h zogen, {moreList})',
  },
  peakSoFar: {
    en: '{amps} A (the most they drew in {span} so far, plus a margin)',
    de: '{amps} A (das Höchste, was sie bisher in {span} zogen, plus eine Reserve)',
  },
  peakSoFarMore: {
    en: '{amps} A (the most they drew in {span} so far, plus a margin, {moreList})',
    de: '{amps} A (das Höchste, was sie bisher in {span} zogen, plus eine Reserve, {moreList})',
  },
  withPvThen: {
    en: 'with what the PV plant generated then and does not now',
    de: 'mit dem, was die PV-Anlage damals erzeugte und jetzt nicht',
  },
  atLeastBelow: {
    en: 'at least what the circuits below count plus the most its own loads drew',
    de: 'mindestens, was die Stromkreise darunter zählen, plus das Höchste, was seine eigenen Lasten zogen',
  },
  meterOf: { en: 'meter "{name}" of {circuit}', de: 'Zähler "{name}" von {circuit}' },
  noReadingYet: { en: 'no reading yet from {source}', de: 'noch kein Messwert von {source}' },
  reportsStale: {
    en: '{source} reports it is stale ({why})',
    de: '{source} meldet sich als veraltet ({why})',
  },
  isStale: { en: '{source} is stale ({s} s)', de: '{source} ist veraltet ({s} s)' },
  noValueFor: { en: 'no value yet for {phases}', de: 'noch kein Wert für {phases}' },
  phasesStale: { en: '{phases} stale ({s} s)', de: '{phases} veraltet ({s} s)' },
  meterParts: { en: '{source}: {whyList}', de: '{source}: {whyList}' },
  otherTakenAs: { en: 'other loads taken as {amps} A', de: 'übrige Verbraucher mit {amps} A angesetzt' },
  namesPaused: { en: '{names} paused', de: '{names} pausiert' },
  perConnector: { en: '{amps} A per connector', de: '{amps} A je Anschluss' },
  // Plans (evidence/departure.ts, modes/price-plans.ts, modes/departure-planner.ts).
  planLimited: {
    en: 'limited: {why} (needs {amps} A from PV and grid to have {kWh} kWh by {time})',
    de: 'begrenzt: {why} (braucht {amps} A aus PV und Netz für {kWh} kWh bis {time})',
  },
  planFirstShort: {
    en: 'PV surplus, first to the car that wants {kWh} kWh by {time} (needs {amps} A, but {why})',
    de: 'PV-Überschuss, zuerst an das Fahrzeug, das {kWh} kWh bis {time} will (braucht {amps} A, aber {why})',
  },
  planFirst: {
    en: 'PV surplus, first to the car that wants {kWh} kWh by {time}',
    de: 'PV-Überschuss, zuerst an das Fahrzeug, das {kWh} kWh bis {time} will',
  },
  planGridShort: {
    en: 'no PV surplus: {amps} A from the grid to have {kWh} kWh by {time} (needs {needA} A, but {why})',
    de: 'kein PV-Überschuss: {amps} A aus dem Netz für {kWh} kWh bis {time} (braucht {needA} A, aber {why})',
  },
  planGrid: {
    en: 'no PV surplus: {amps} A from the grid to have {kWh} kWh by {time}',
    de: 'kein PV-Überschuss: {amps} A aus dem Netz für {kWh} kWh bis {time}',
  },
  planPlusShort: {
    en: 'PV surplus plus {amps} A from the grid to have {kWh} kWh by {time} (needs {needA} A, but {why})',
    de: 'PV-Überschuss plus {amps} A aus dem Netz für {kWh} kWh bis {time} (braucht {needA} A, aber {why})',
  },
  planPlus: {
    en: 'PV surplus plus {amps} A from the grid to have {kWh} kWh by {time}',
    de: 'PV-Überschuss plus {amps} A aus dem Netz für {kWh} kWh bis {time}',
  },
  maxIsLess: { en: 'its maximum is less', de: 'sein Maximum ist kleiner' },
  maxIs: { en: 'its maximum is {amps} A', de: 'sein Maximum ist {amps} A' },
  itIsLimitedTo: { en: 'it is limited to {amps} A', de: 'es ist auf {amps} A begrenzt' },
  chargingNowCheapest: {
    en: 'charging now: {price}, the cheapest {duration} before {time}',
    de: 'lädt jetzt: {price}, die günstigsten {duration} vor {time}',
  },
  nextCheapest: {
    en: 'next: {at} at {price}, the cheapest {duration} before {time}',
    de: 'als Nächstes: {at} zu {price}, die günstigsten {duration} vor {time}',
  },
  plannedFromPv: { en: '{kWh} planned ({pvKWh} from PV)', de: '{kWh} geplant ({pvKWh} aus PV)' },
  planned: { en: '{kWh} planned', de: '{kWh} geplant' },
  cannotBeHad: { en: '{kWh} more cannot be had by then', de: '{kWh} mehr sind bis dahin nicht zu haben' },
  pvOnlyBefore: { en: 'PV only before {time}: {planned}', de: 'nur PV vor {time}: {planned}' },
  nothingLeft: { en: 'nothing left to charge before {time}', de: 'vor {time} nichts mehr zu laden' },
  priceNotKnown: { en: 'price not known', de: 'Preis unbekannt' },
  noPriceNow: {
    en: 'no price known now (limit {price})',
    de: 'kein Preis für jetzt bekannt (Grenze {price})',
  },
  atOrBelowLimit: {
    en: '{price} at or below the limit {limit}',
    de: '{price} bei oder unter der Grenze {limit}',
  },
  aboveLimit: { en: '{price} above the limit {limit}', de: '{price} über der Grenze {limit}' },
  chargingNow: { en: 'charging now: {why}', de: 'lädt jetzt: {why}' },
  pvSurplusOnly: { en: '{why}: PV surplus only', de: '{why}: nur PV-Überschuss' },
  percentReached: { en: '{percent} % reached before {time}', de: '{percent} % vor {time} erreicht' },
  fullBefore: { en: 'full ({percent} %) before {time}', de: 'voll ({percent} %) vor {time}' },
  reached: { en: '{kWh} kWh reached before {time}', de: '{kWh} kWh vor {time} erreicht' },
  noPlan: {
    en: 'price: no plan and no price limit, PV surplus only',
    de: 'Preis: kein Plan und keine Preisgrenze, nur PV-Überschuss',
  },
  // What a circuit would carry if ampflow stopped (control/offline-fit.ts), a problem.
  offlineNow: {
    en: '{circuit}: if ampflow stops now: {totalA} A on {availableA} A available, L{phase} ({detail})',
    de: '{circuit}: hält ampflow jetzt an: {totalA} A bei {availableA} A verfügbar, L{phase} ({detail})',
  },
  offlineKeepers: {
    en: '{circuit}: if ampflow stops while {names} (which keep their last limit) are at their highest, {totalA} A on {availableA} A available, L{phase}',
    de: '{circuit}: hält ampflow an, während {names} (die ihre letzte Grenze behalten) auf ihrem Höchsten sind: {totalA} A bei {availableA} A verfügbar, L{phase}',
  },
  holdWithinPlan: {
    en: 'set control.holdKeptLimits to hold them within the plan',
    de: 'control.holdKeptLimits setzen, um sie im Plan zu halten',
  },
  offlineFallbacks: { en: 'offline fallbacks {names}: {each}', de: 'Offline-Vorgaben {names}: {each}' },
  keptLastLimits: { en: 'kept last limits {names}: {each}', de: 'behaltene letzte Grenzen {names}: {each}' },
  ownOfflineLimits: {
    en: 'own offline limits (offlineA) {names}: {each}',
    de: 'eigene Offline-Grenzen (offlineA) {names}: {each}',
  },
  theirOwnAmps: { en: 'their own amps', de: 'jeweils ihre eigenen A' },
  amps: { en: '{amps} A', de: '{amps} A' },
  ampsEach: { en: '{amps} A each', de: 'je {amps} A' },
  otherUnlearned: {
    en: 'other loads 0 A (nothing learned yet, no fallback.otherLoadA)',
    de: 'übrige Lasten 0 A (noch nichts gelernt, kein fallback.otherLoadA)',
  },
  otherPeak: {
    en: 'other loads {amps} A (their learned peak)',
    de: 'übrige Lasten {amps} A (ihr gelernter Höchstwert)',
  },
  letProfileInstall: {
    en: 'let the charging-profile node install its offline fallback on {names}, or enter the fallback each charger has of its own as its offlineA',
    de: 'den Ladeprofil-Knoten seine Offline-Vorgabe auf {names} installieren lassen, oder die eigene Ersatzvorgabe jeder Ladestation als ihr offlineA eintragen',
  },
  giveSetPoints: {
    en: "give the charging-profile node the load manager's set-points (it installs the fallbacks chosen to fit), or lower its offline fallback",
    de: 'dem Ladeprofil-Knoten die Sollwerte des Lastmanagements geben (er installiert die passend gewählten Offline-Vorgaben), oder seine Offline-Vorgabe senken',
  },
  setHoldKept: { en: 'set control.holdKeptLimits', de: 'control.holdKeptLimits setzen' },
  feedFewer: { en: 'feed fewer chargers from it', de: 'weniger Ladestationen daraus versorgen' },
  // Readings refused (evidence/meter-plausibility.ts): a charger's, a meter's.
  onPhase: { en: 'on L{phase}', de: 'auf L{phase}' },
  withoutAPhase: { en: 'without a phase', de: 'ohne Phase' },
  chargerNotFinite: {
    en: 'charger {key} reads {value} A {where}: not a finite number',
    de: 'Ladestation {key} misst {value} A {where}: keine endliche Zahl',
  },
  notFinite: {
    en: 'reads {value} A {where}: not a finite number',
    de: 'misst {value} A {where}: keine endliche Zahl',
  },
  chargerBeyondWiring: {
    en: 'charger {key} reads {value} A {where}, more than {boundA} A (its maximum is {maxA} A): more than its wiring can carry',
    de: 'Ladestation {key} misst {value} A {where}, mehr als {boundA} A (ihr Maximum ist {maxA} A): mehr, als ihre Verdrahtung tragen kann',
  },
  beyondWiring: {
    en: 'reads {value} A {where}, more than {boundA} A (its maximum is {maxA} A): more than its wiring can carry',
    de: 'misst {value} A {where}, mehr als {boundA} A (ihr Maximum ist {maxA} A): mehr, als ihre Verdrahtung tragen kann',
  },
  refusedReadings: {
    en: '{why}: refused, taken as not measured ({n} refused this session)',
    de: '{why}: verworfen, als nicht gemessen genommen ({n} in diesem Ladevorgang verworfen)',
  },
  wrongRatio: {
    en: '{source} reads {value} A on L{phase}, more than {factor} times the {limit} A limit: implausible (a wrong CT ratio?)',
    de: '{source} misst {value} A auf L{phase}, mehr als das {factor}-Fache der Grenze von {limit} A: unplausibel (ein falsches Wandlerverhältnis?)',
  },
  nothingExports: {
    en: '{source} reads {value} A on L{phase} where nothing can export: implausible (a CT the wrong way round?)',
    de: '{source} misst {value} A auf L{phase}, wo nichts einspeisen kann: unplausibel (ein verkehrt herum eingebauter Wandler?)',
  },
  moreExport: {
    en: '{source} reads {value} A on L{phase}, more export than the {generated} A generated below: implausible (a CT the wrong way round?)',
    de: '{source} misst {value} A auf L{phase}, mehr Einspeisung als die {generated} A, die darunter erzeugt werden: unplausibel (ein verkehrt herum eingebauter Wandler?)',
  },
  belowChargers: {
    en: '{source} reads {value} A on L{phase} while the chargers below draw {chargersA} A by their own meters: implausible (a CT disconnected?)',
    de: '{source} misst {value} A auf L{phase}, während die Ladestationen darunter nach ihren eigenen Zählern {chargersA} A ziehen: unplausibel (ein abgeklemmter Wandler?)',
  },
  belowChargersNoneMeasured: {
    en: '{source} reads {value} A on L{phase} while the chargers below draw {chargersA} A by their own meters (nothing generated below, as measured): implausible (a CT disconnected?)',
    de: '{source} misst {value} A auf L{phase}, während die Ladestationen darunter nach ihren eigenen Zählern {chargersA} A ziehen (darunter wird laut Messung nichts erzeugt): unplausibel (ein abgeklemmter Wandler?)',
  },
  belowChargersGenerated: {
    en: '{source} reads {value} A on L{phase} while the chargers below draw {chargersA} A by their own meters ({generated} A generated below): implausible (a CT disconnected?)',
    de: '{source} misst {value} A auf L{phase}, während die Ladestationen darunter nach ihren eigenen Zählern {chargersA} A ziehen ({generated} A darunter erzeugt): unplausibel (ein abgeklemmter Wandler?)',
  },
  allZero: {
    en: '{source} reads exactly 0.00 A on every phase where its values moved at every reading before: implausible (a CT fallen off, or a gateway that lost its meter?)',
    de: '{source} misst auf jeder Phase genau 0,00 A, wo sich seine Werte vorher bei jeder Messung bewegten: unplausibel (ein abgefallener Wandler oder ein Gateway, das seinen Zähler verloren hat?)',
  },
  frozenReadings: {
    en: '{source} has read exactly {shown} A in {n} readings over {s} s, where its values moved at every reading before: frozen (a gateway repeating its cache?)',
    de: '{source} hat in {n} Messungen über {s} s genau {shown} A gemessen, wo sich seine Werte vorher bei jeder Messung bewegten: eingefroren (ein Gateway, das seinen Zwischenspeicher wiederholt?)',
  },
  frozenWhileChargers: {
    en: '{source} has read exactly {shown} A for {s} s while the chargers below went from {from} to {to} A on L{phase} by their own readings: frozen',
    de: '{source} misst seit {s} s genau {shown} A, während die Ladestationen darunter nach ihren eigenen Messwerten auf L{phase} von {from} auf {to} A gingen: eingefroren',
  },
  // The summary's problems (report/explain.ts buildSummary).
  overloaded: {
    en: '{circuit}: the loads the load manager does not control exceed the limit ({amps} A left)',
    de: '{circuit}: die Lasten, die das Lastmanagement nicht steuert, überschreiten die Grenze ({amps} A übrig)',
  },
  fullOfReserved: {
    en: '{circuit}: full with what chargers not under control may draw ({held})',
    de: '{circuit}: voll mit dem, was Ladestationen außer Kontrolle ziehen dürfen ({held})',
  },
  reservedOffline: { en: '{key} offline: {amps} A reserved', de: '{key} offline: {amps} A freigehalten' },
  reservedOfflineWhy: {
    en: '{key} offline: {amps} A reserved ({why})',
    de: '{key} offline: {amps} A freigehalten ({why})',
  },
  reservedNotReported: {
    en: '{key} not reported yet: {amps} A reserved',
    de: '{key} noch nicht gemeldet: {amps} A freigehalten',
  },
  overdrawing: {
    en: 'charger {key} draws above its set-point {amps} A (counted at what it draws)',
    de: 'Ladestation {key} zieht mehr als ihren Sollwert von {amps} A (mit dem gerechnet, was sie zieht)',
  },
  notInSite: {
    en: 'connector {key} is not in the site model',
    de: 'Anschluss {key} ist nicht im Standortmodell',
  },
  // An expression's failure (modes/expressions.ts), a problem; `{error}` is JSONata's own words.
  expressionFailed: {
    en: 'connector {connector}: {field} expression "{expression}" failed ({error}); using {fallback}',
    de: 'Anschluss {connector}: Ausdruck für {field} "{expression}" fehlgeschlagen ({error}); verwendet {fallback}',
  },
  modeField: { en: 'mode', de: 'Modus' },
  priorityField: { en: 'priority', de: 'Priorität' },
  returned: { en: 'returned {value}', de: 'ergab {value}' },
  returnedNothing: { en: 'returned nothing', de: 'ergab nichts' },
  // The invariant check refused set-points (control/policy.ts): cannot happen unless the allocator has a bug.
  internalCheck: {
    en: 'internal check failed, pausing the affected connectors: {violations}',
    de: 'interne Prüfung fehlgeschlagen, die betroffenen Anschlüsse werden pausiert: {violations}',
  },
  text: { en: '{text}', de: '{text}' },
} as const satisfies Readonly<Record<string, { en: string; de: string }>>;

/**
 * OCPP connector states: `en` as a reason names them (`idle: Available`, OCPP's own name), `shown`
 * where the dashboards' tables say it otherwise in English, `de` for both. Served as `status.X`
 * (in a reason) and `state.X` (a charger's state in a table) by `wordsCatalogue`.
 */
export const STATUS_WORDS: Readonly<Record<string, { en: string; de: string; shown?: string }>> = {
  Available: { en: 'Available', de: 'Frei' },
  Preparing: { en: 'Preparing', de: 'Vorbereitung' },
  Charging: { en: 'Charging', de: 'Lädt' },
  SuspendedEV: { en: 'SuspendedEV', shown: 'Suspended by the car', de: 'Pausiert (Fahrzeug)' },
  SuspendedEVSE: { en: 'SuspendedEVSE', shown: 'Suspended by the charger', de: 'Pausiert (Ladestation)' },
  Finishing: { en: 'Finishing', de: 'Beendet' },
  Reserved: { en: 'Reserved', de: 'Reserviert' },
  Unavailable: { en: 'Unavailable', de: 'Gesperrt' },
  Faulted: { en: 'Faulted', de: 'Störung' },
  Occupied: { en: 'Occupied', de: 'Belegt' },
  // Not OCPP's: a charger not connected, and one that has not reported its state yet (the tables).
  Offline: { en: 'Offline', de: 'Offline' },
  Unknown: { en: 'Unknown', de: 'Unbekannt' },
};

/**
 * OCPP's answers to a command (the `status` of RemoteStartTransaction, UnlockConnector, Reset,
 * ChangeAvailability and the like, 1.6 and 2.0.1): `en` OCPP's own name, as the dashboards showed
 * it; served as `answer.X`. A status that is also a connector state (Occupied, Faulted,
 * Unavailable) is `status.X`'s.
 */
export const ANSWER_WORDS: Readonly<Record<string, { en: string; de: string }>> = {
  Accepted: { en: 'Accepted', de: 'Angenommen' },
  Rejected: { en: 'Rejected', de: 'Abgelehnt' },
  Scheduled: { en: 'Scheduled', de: 'Vorgemerkt' },
  Unlocked: { en: 'Unlocked', de: 'Entriegelt' },
  UnlockFailed: { en: 'UnlockFailed', de: 'Entriegeln fehlgeschlagen' },
  OngoingAuthorizedTransaction: { en: 'OngoingAuthorizedTransaction', de: 'Laufender Ladevorgang' },
  UnknownConnector: { en: 'UnknownConnector', de: 'Unbekannter Anschluss' },
  NotSupported: { en: 'NotSupported', de: 'Nicht unterstützt' },
  NotImplemented: { en: 'NotImplemented', de: 'Nicht umgesetzt' },
  Failed: { en: 'Failed', de: 'Fehlgeschlagen' },
  RebootRequired: { en: 'RebootRequired', de: 'Neustart nötig' },
  VersionMismatch: { en: 'VersionMismatch', de: 'Version passt nicht' },
  UnknownMessageId: { en: 'UnknownMessageId', de: 'Unbekannte Nachricht' },
  UnknownVendorId: { en: 'UnknownVendorId', de: 'Unbekannter Hersteller' },
  NotFound: { en: 'NotFound', de: 'Nicht gefunden' },
};

/**
 * A command's notice on the facility dashboard (after Start, Stop, Unlock, Enable, Disable, Reset):
 * the page words it from the command's answer as data (`{charger}`, OCPP's `{action}`, the answer's
 * `{status}` in `answer.X` or `status.X` words), or from why it failed (lib/ocpp CommandError's
 * code: Offline, Timeout, CallError, InvalidRequest, InvalidResponse; `failed` for another).
 * Served as `command.X`.
 */
export const COMMAND_WORDS: Readonly<Record<string, { en: string; de: string }>> = {
  answered: { en: '{charger}: {action} {status}', de: '{charger}: {action} {status}' },
  done: { en: '{charger}: {action} done', de: '{charger}: {action} erledigt' },
  Offline: {
    en: '{charger}: {action} failed: the charger is not connected',
    de: '{charger}: {action} fehlgeschlagen: die Ladestation ist nicht verbunden',
  },
  Timeout: {
    en: '{charger}: {action} failed: no answer in time',
    de: '{charger}: {action} fehlgeschlagen: keine Antwort in der Zeit',
  },
  CallError: {
    en: '{charger}: {action} failed: the charger answered with an error',
    de: '{charger}: {action} fehlgeschlagen: die Ladestation antwortete mit einem Fehler',
  },
  InvalidRequest: {
    en: '{charger}: {action} failed: not a valid request',
    de: '{charger}: {action} fehlgeschlagen: keine gültige Anfrage',
  },
  InvalidResponse: {
    en: "{charger}: {action} failed: the charger's answer is not valid",
    de: '{charger}: {action} fehlgeschlagen: die Antwort der Ladestation ist ungültig',
  },
  failed: { en: '{charger}: {action} failed', de: '{charger}: {action} fehlgeschlagen' },
  close: { en: 'Close', de: 'Schließen' },
};

export type ReasonKey = keyof typeof REASON_WORDS;

/** The `{name}`s of a template. */
type Names<T extends string> = T extends `${string}{${infer N}}${infer R}` ? N | Names<R> : never;

/**
 * The parameters that are themselves reasons: only parts of the catalogue (a text from outside
 * through `given`), never a string, so no English sentence gets into a reason through them.
 */
type ReasonParam =
  | 'why'
  | 'minWhy'
  | 'what'
  | 'plan'
  | 'planned'
  | 'status'
  | 'detail'
  | 'error'
  | 'field'
  | 'source'
  | 'action'
  | 'other'
  | 'violations';

/**
 * A parameter: a `{…List}` is a list of parts (`, ` between them), a `ReasonParam` a reason; any
 * other is a number, a name or a list of names (a string), or, where it may be words (a price not
 * known, `L1-L2 (IT: two conductors)`, `CP-1/1 and 3 more`), a reason.
 */
type Param<N extends string> = N extends `${string}List`
  ? readonly Said[]
  : N extends ReasonParam
    ? readonly Said[]
    : string | number | readonly Said[];

/** The parameters of `key`, each one its template names. */
export type ParamsOf<K extends ReasonKey> = { [N in Names<(typeof REASON_WORDS)[K]['en']>]: Param<N> };

/**
 * A reason's part: the catalogue's `key` with its parameters (a number as text, as a template
 * literal would print it). A key not in the catalogue, or a parameter missing or extra, does not
 * type-check.
 */
export function say<K extends ReasonKey>(
  key: K,
  ...params: [Names<(typeof REASON_WORDS)[K]['en']>] extends [never] ? [] : [ParamsOf<K>]
): Said {
  const given = params[0] as Record<string, string | number | readonly Said[]> | undefined;
  if (!given) return { key };
  const out: Record<string, string | Said[]> = {};
  for (const [name, value] of Object.entries(given))
    out[name] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : [...value];
  return { key, params: out };
}

/**
 * A few names, and how many more (`namesAndMore`): a reason a person reads (and that every held
 * connector carries) names at most three connectors, whatever the size of the site.
 */
export function sayNames(keys: readonly string[]): string | Reason {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? [say('namesAndMore', { names: shown, n: keys.length - 3 })] : shown;
}

/** An OCPP connector state as a reason names it (`idle: Available`). */
export function sayStatus(status: string): Said {
  return { key: `status.${status}` };
}

/** A text given from outside ampflow (a command's reason, an expression's error): shown as it came. */
export function given(text: string): Said {
  return { key: 'text', params: { text } };
}

/** Numbers in German form (a decimal comma), text as it is (an address or a version, `10.0.0.5`, too). */
function literal(value: string, language: Language): string {
  if (language === 'en') return value;
  return value.replace(/(?<![\d.])(\d+)\.(\d+)(?![\d.])/g, '$1,$2');
}

/** Reason parts in a language: the catalogue's words with their parameters filled in. */
export function sayReason(said: readonly Said[], language: Language): string {
  return said
    .map((part) => {
      const [kind, status = ''] = part.key.split('.');
      if (kind === 'status' || kind === 'state') {
        const entry = STATUS_WORDS[status];
        if (!entry) return status;
        return kind === 'state' && language === 'en' ? (entry.shown ?? entry.en) : entry[language];
      }
      const entry =
        (REASON_WORDS as Record<string, { en: string; de: string }>)[part.key] ?? REASON_WORDS.text;
      return entry[language].replace(/\{(\w+)\}/g, (_all, name: string) => {
        const value = part.params?.[name];
        if (value === undefined) return '';
        if (typeof value === 'string') return part.key === 'text' ? value : literal(value, language);
        return name.endsWith('List')
          ? value.map((item) => sayReason([item], language)).join(', ')
          : sayReason(value, language);
      });
    })
    .join('; ');
}

/** A reason's English text: what the summary's `reason`, the set-point and the logs carry. */
export function english(reason: readonly Said[]): string {
  return sayReason(reason, 'en');
}

/**
 * The catalogue as the dashboards load it (`GET /ampflow/words.json`): templates by language and
 * key; with the states (`status.X`, `state.X`), the commands' answers (`answer.X`) and notices
 * (`command.X`).
 */
export function wordsCatalogue(): { reasons: Record<Language, Record<string, string>> } {
  const reasons: Record<Language, Record<string, string>> = { en: {}, de: {} };
  for (const [key, entry] of Object.entries(REASON_WORDS)) {
    reasons.en[key] = entry.en;
    reasons.de[key] = entry.de;
  }
  for (const [status, entry] of Object.entries(STATUS_WORDS)) {
    reasons.en[`status.${status}`] = entry.en;
    reasons.de[`status.${status}`] = entry.de;
    reasons.en[`state.${status}`] = entry.shown ?? entry.en;
    reasons.de[`state.${status}`] = entry.de;
  }
  for (const [table, words] of [
    ['answer', ANSWER_WORDS],
    ['command', COMMAND_WORDS],
  ] as const) {
    for (const [key, entry] of Object.entries(words)) {
      reasons.en[`${table}.${key}`] = entry.en;
      reasons.de[`${table}.${key}`] = entry.de;
    }
  }
  return { reasons };
}
