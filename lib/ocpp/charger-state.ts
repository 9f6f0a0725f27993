import type { Clock } from '../clock';
import type { ConnectorState } from '../contracts';
import type { Logger } from '../log';
import type { StoreIo } from '../store/durable-log';
import {
  applyEvent,
  type CentralEvent,
  type CentralState,
  type ChargerRecord,
  initialCentralState,
  isArchivedEvent,
  MemoryStateLog,
  type OpenTransaction,
  type SessionRecord,
  type StateLog,
  type StopAnomaly,
} from './central-state';
import { ConnectorRegistry } from './connectors';
import type { BootNotificationRequest } from './messages';
import type { RotatedPassword } from './rotated-passwords';
import { openDurableStateLog } from './state-store';
import { TransactionLedger } from './transactions';
import { TokenTypes } from './v201/token-types';

/** Where the durable state lives: the part of CentralSystemOptions the state reads. */
export interface ChargerStateOptions {
  /** Durable state lives here; without it the state is in memory only. */
  dataDirectory?: string;
  /** The durable state's file operations; tests replace them to make a disk fail. */
  storeIo?: Partial<StoreIo>;
}

/**
 * What the central system knows about its chargers and keeps: the durable state log (charger
 * records, id tags, sessions), the transaction ledger over it, the connectors' live state
 * (ConnectorRegistry) and the id tokens' types 2.0.1 stations reported. It owns them; others read and change them through it.
 */
export class ChargerState {
  /** Each connector's live state; lives as long as the central system, across restarts. */
  readonly connectors = new ConnectorRegistry();
  /** The type each id token was seen with at a 2.0.1 station (in memory, across restarts of listening). */
  readonly tokenTypes = new TokenTypes();
  private stateLog: StateLog<CentralState, CentralEvent> | undefined;
  private ledger: TransactionLedger | undefined;
  /** nowIso's latest text and the clock time it is of. */
  private iso = '';
  private isoMs = Number.NaN;

  constructor(
    private readonly options: Readonly<ChargerStateOptions>,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get isOpen(): boolean {
    return this.stateLog !== undefined;
  }

  /**
   * Opens the durable state (or a state in memory). `onFailure` is called when it cannot be
   * written any more: nothing more can be acknowledged safely.
   */
  async open(onFailure: (err: Error) => void): Promise<void> {
    this.stateLog = this.options.dataDirectory
      ? await openDurableStateLog(this.options.dataDirectory, this.log, onFailure, this.options.storeIo)
      : new MemoryStateLog<CentralState, CentralEvent>(initialCentralState(), applyEvent, isArchivedEvent);
    this.ledger = new TransactionLedger(this.stateLog);
  }

  /** Restores running transactions onto their connectors: the load manager needs them at once. */
  restoreTransactions(): void {
    for (const tx of this.requireLedger().open()) {
      const transaction = {
        transactionId: tx.transactionId,
        idTag: tx.idTag,
        startedAt: tx.startedAt,
        meterStartWh: tx.meterStartWh,
      };
      this.connectors.bindTransaction(
        tx.chargePointId,
        tx.connectorId,
        tx.priority === undefined ? transaction : { ...transaction, priority: tx.priority },
      );
    }
  }

  /** Closes the durable state; a failure to close is logged (the central system is stopping). */
  async close(): Promise<void> {
    const log = this.stateLog;
    this.stateLog = undefined;
    this.ledger = undefined;
    await log?.close().catch((err: Error) => this.log.warn(`closing the durable state: ${err.message}`));
  }

  requireLog(): StateLog<CentralState, CentralEvent> {
    if (!this.stateLog) throw new Error('the central system is not started');
    return this.stateLog;
  }

  requireLedger(): TransactionLedger {
    if (!this.ledger) throw new Error('the central system is not started');
    return this.ledger;
  }

  /**
   * The clock's time in ISO form. The text of the latest millisecond is kept: messages that arrive
   * together share it (formatting a Date costs about 1 µs per message in bench:throughput).
   */
  nowIso(): string {
    const ms = this.clock.now();
    if (ms !== this.isoMs) {
      this.iso = new Date(ms).toISOString();
      this.isoMs = ms;
    }
    return this.iso;
  }

  // ---- charger records ---------------------------------------------------------------------------

  /** The charger's durable record; undefined when unknown or while stopped. */
  record(chargePointId: string): ChargerRecord | undefined {
    return this.stateLog?.state.chargers[chargePointId];
  }

  /** Identities of every charger with a record. */
  recordedIds(): string[] {
    return Object.keys(this.requireLog().state.chargers);
  }

  /** Records a charger the first time it connects (logged, not thrown, when the disk fails). */
  noteSeen(chargePointId: string): void {
    if (!this.stateLog || this.stateLog.state.chargers[chargePointId]) return;
    this.stateLog.append({ type: 'chargerSeen', chargePointId, at: this.nowIso() }).catch((err: Error) => {
      this.log.error(`recording charge point ${chargePointId} failed: ${err.message}`);
    });
  }

  /** Records where a charger was accepted from, when that changed (logged, not thrown, when the disk fails). */
  noteAddress(chargePointId: string, address: string): void {
    if (!this.stateLog || this.stateLog.state.chargers[chargePointId]?.lastAddress === address) return;
    this.stateLog
      .append({ type: 'chargerAddress', chargePointId, at: this.nowIso(), address })
      .catch((err: Error) => {
        this.log.error(`recording the address of charge point ${chargePointId} failed: ${err.message}`);
      });
  }

  /**
   * Records a charger's admission: its address, and its password when it got in with the new one it
   * had accepted (rotated-passwords.ts). Logged, not thrown, when the disk fails.
   */
  noteAdmitted(chargePointId: string, address: string, password?: RotatedPassword): void {
    this.noteAddress(chargePointId, address);
    if (!this.stateLog || !password) return;
    this.stateLog
      .append({ type: 'chargerPassword', chargePointId, at: password.at, password })
      .catch((err: Error) => {
        this.log.error(`recording the new password of charge point ${chargePointId} failed: ${err.message}`);
      });
  }

  /** The operator approved (true) or rejected (false) a charger. */
  async setApproval(chargePointId: string, approved: boolean): Promise<void> {
    await this.requireLog().append({ type: 'chargerApproval', chargePointId, at: this.nowIso(), approved });
  }

  bootOf(chargePointId: string): BootNotificationRequest | undefined {
    return this.record(chargePointId)?.boot?.request;
  }

  storedData(chargePointId: string, namespace: string): unknown {
    return this.record(chargePointId)?.facts?.[namespace]?.facts;
  }

  async storeData(chargePointId: string, namespace: string, data: unknown): Promise<void> {
    await this.requireLog().append({
      type: 'chargerSmartCharging',
      chargePointId,
      at: this.nowIso(),
      facts: data,
      namespace,
    });
  }

  entriesOf(chargePointId: string, namespace: string): Readonly<Record<string, unknown>> {
    return this.record(chargePointId)?.entries?.[namespace] ?? {};
  }

  async keepEntries(
    chargePointId: string,
    namespace: string,
    change: { put?: Record<string, unknown>; drop?: string[] },
  ): Promise<void> {
    await this.requireLog().append({ type: 'chargerEntries', chargePointId, namespace, ...change });
  }

  /** The HeartbeatInterval the charger reported in its configuration, in s, if it did. */
  configuredHeartbeatS(chargePointId: string): number | undefined {
    const configured = this.record(chargePointId)?.configuration?.keys.find(
      (key) => key.key === 'HeartbeatInterval',
    )?.value;
    return Number(configured) > 0 ? Number(configured) : undefined;
  }

  // ---- transactions ------------------------------------------------------------------------------

  /** Open transactions, oldest first. */
  openTransactions(): OpenTransaction[] {
    return this.requireLedger().open();
  }

  /**
   * The transactions still bound to a connector. ConcurrentTx counts these: a transaction the
   * charger never stopped (its connector went Available) must not block the badge for ever.
   */
  boundTransactions(): { chargePointId: string; connectorId: number; idTag: string }[] {
    return this.connectors.all().flatMap((state: ConnectorState) =>
      state.transaction
        ? [
            {
              chargePointId: state.chargePointId,
              connectorId: state.connectorId,
              idTag: state.transaction.idTag,
            },
          ]
        : [],
    );
  }

  /** Every finished session ever recorded, oldest first. */
  async *sessions(): AsyncIterable<SessionRecord> {
    for await (const event of this.requireLog().archive()) {
      if (event.type === 'transactionStopped') yield event.session;
    }
  }

  /** Every stop ever refused as a record (stop-anomalies.ts), oldest first. */
  async *stopAnomalies(): AsyncIterable<StopAnomaly> {
    for await (const event of this.requireLog().archive()) {
      if (event.type === 'stopRefused') yield event.anomaly;
    }
  }
}
