import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock';
import { ConfigError } from '../config-error';
import type { Logger } from '../log';
import type { CentralEvent, CentralState, StateLog } from './central-state';
import {
  type IdTagEntry,
  type IdTagInfo,
  IdTagList,
  type IdTagListChange,
  type IdTagMatching,
  isHexUid,
  reverseByteOrder,
} from './id-tags';
import { findViolation } from './v16/validation';

export type AuthorizationPolicy = 'acceptAll' | 'localList' | 'flow';

export interface AuthorizationOptions {
  /**
   * acceptAll: free charging, every id tag is Accepted; localList: the id-tag list decides;
   * flow: a `request` event goes to the flow, whose answer decides (with a timeout and a fallback).
   */
  policy: AuthorizationPolicy;
  /** The id tag of free charging (chargers such as Bender's use one fixed tag); RemoteStart's default. */
  fixedIdTag?: string;
  /** How long the flow has to answer before the fallback decides, in ms. */
  flowTimeoutMs: number;
  /** What decides when the flow does not answer in time or no flow listens. */
  fallback: 'acceptAll' | 'localList' | 'reject';
  matching: Partial<IdTagMatching>;
  /**
   * Which id tags may run only one transaction at a time (a second start elsewhere is answered
   * ConcurrentTx): `every` tag, only the tags `listed` with `oneAtATime` in the id-tag list (or whose
   * parent is), or `none`. Unset: `listed` when every id tag is accepted (free charging: chargers
   * such as Bender's present one unified tag for every car), `every` under the list and the flow.
   */
  oneTransactionPerTag?: OneTransactionPerTag;
  /** @deprecated true is `oneTransactionPerTag: 'none'` (settings from before it). */
  allowConcurrentTx?: boolean;
}

export type OneTransactionPerTag = 'every' | 'listed' | 'none';

export const DEFAULT_AUTHORIZATION: AuthorizationOptions = {
  policy: 'localList',
  flowTimeoutMs: 5000,
  fallback: 'localList',
  matching: {},
};

/** A decision the flow is asked to make; answer it with `CentralSystem.respond(id, decision)`. */
export interface FlowRequest {
  id: string;
  chargePointId: string;
  action: 'Authorize' | 'StartTransaction' | 'DataTransfer' | 'SignCertificate';
  /** For id tags: `{ idTag, connectorId? }`; otherwise the charger's request. */
  request: unknown;
  /** What the central system answers if the flow does not (the fallback), for the flow to start from. */
  proposal: unknown;
  /** ISO 8601: the fallback answers after this. */
  deadline: string;
}

/**
 * The flows' handlers of FlowRequests. Each says whether it takes a request (and will answer it);
 * when none does, the fallback answers at once.
 */
export class FlowRequestHandlers {
  private readonly handlers = new Set<(request: FlowRequest) => boolean>();

  /** Adds a handler; returns the function that removes it. */
  add(handler: (request: FlowRequest) => boolean): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Offers a request to every handler; true when at least one took it. */
  dispatch(request: FlowRequest): boolean {
    let taken = false;
    for (const handler of this.handlers) taken = handler(request) || taken;
    return taken;
  }
}

export interface IdTagDecision {
  idTagInfo: IdTagInfo;
  /** From the id tag's priority (VIP) or the flow: read by the load manager. */
  priority?: number;
}

/** The id-tag list, persisted through the central system's journal on every change. */
export class PersistentIdTags {
  private list: IdTagList;

  constructor(
    private readonly stateLog: StateLog<CentralState, CentralEvent>,
    matching: Partial<IdTagMatching>,
  ) {
    this.list =
      stateLog.state.idTags === undefined
        ? new IdTagList({ matching })
        : IdTagList.fromSnapshot(stateLog.state.idTags, { matching });
  }

  get version(): number {
    return this.list.version;
  }

  get size(): number {
    return this.list.size;
  }

  entries(): IdTagEntry[] {
    return this.list.entries();
  }

  get(idTag: string): IdTagEntry | undefined {
    return this.list.get(idTag);
  }

  lookup(presentedIdTag: string, nowMs: number) {
    return this.list.lookup(presentedIdTag, nowMs);
  }

  localListUpdates(chargerVersion: number | undefined, maxEntriesPerMessage: number) {
    return this.list.localListUpdates(chargerVersion, maxEntriesPerMessage);
  }

  upsert(entries: readonly IdTagEntry[]): Promise<IdTagListChange> {
    return this.persist(this.list.upsert(entries));
  }

  remove(idTags: readonly string[]): Promise<IdTagListChange> {
    return this.persist(this.list.remove(idTags));
  }

  replaceAll(entries: readonly IdTagEntry[]): Promise<IdTagListChange> {
    return this.persist(this.list.replaceAll(entries));
  }

  /** Whether two presented tags are the same card under the matching rules (for ConcurrentTx). */
  sameCard(a: string, b: string): boolean {
    const spellings = (tag: string) => {
      // ASCII folding, as the list itself compares: id tags are hex UIDs or plain ASCII.
      const base = this.list.matching.caseInsensitive ? tag.replace(/[a-z]/g, (c) => c.toUpperCase()) : tag;
      return this.list.matching.byteOrderVariants && isHexUid(tag) ? [base, reverseByteOrder(base)] : [base];
    };
    const ofB = spellings(b);
    return spellings(a).some((spelling) => ofB.includes(spelling));
  }

  private async persist(change: IdTagListChange): Promise<IdTagListChange> {
    if (change.changed) await this.stateLog.append({ type: 'idTags', snapshot: this.list.toJSON() });
    return change;
  }
}

interface PendingFlowRequest {
  resolve(decision: unknown): void;
  timer: TimerHandle;
}

/**
 * Decides Authorize and StartTransaction id tags by the configured policy, asks the flow where
 * the policy says so, and answers ConcurrentTx for a tag already charging elsewhere.
 */
export class Authorizer {
  readonly idTags: PersistentIdTags;
  readonly options: AuthorizationOptions;
  private readonly pending = new Map<string, PendingFlowRequest>();

  /**
   * @param emitRequest hands a FlowRequest to the flows; returns false when nobody listens, in
   *   which case the fallback answers at once instead of after the timeout.
   */
  constructor(
    private readonly runtime: { readonly clock: Clock; readonly log: Logger },
    stateLog: StateLog<CentralState, CentralEvent>,
    private readonly openTransactions: {
      open(): { chargePointId: string; connectorId: number; idTag: string }[];
    },
    options: Partial<AuthorizationOptions>,
    private readonly emitRequest: (request: FlowRequest) => boolean,
  ) {
    this.options = { ...DEFAULT_AUTHORIZATION, ...options };
    if (!['acceptAll', 'localList', 'flow'].includes(this.options.policy)) {
      throw new ConfigError(
        'authorization.policy',
        `"${this.options.policy}" is not acceptAll, localList or flow`,
      );
    }
    this.idTags = new PersistentIdTags(stateLog, this.options.matching);
  }

  /** Authorize.req: may this tag charge (or stop) at this charge point? */
  async authorize(chargePointId: string, idTag: string): Promise<IdTagDecision> {
    const decision = await this.decide('Authorize', chargePointId, idTag, undefined);
    return this.withConcurrency(decision, idTag, (tx) => tx.chargePointId !== chargePointId);
  }

  /** StartTransaction.req: the idTagInfo to answer with (the transaction is recorded regardless). */
  async authorizeStart(chargePointId: string, connectorId: number, idTag: string): Promise<IdTagDecision> {
    const decision = await this.decide('StartTransaction', chargePointId, idTag, connectorId);
    return this.withConcurrency(
      decision,
      idTag,
      (tx) => tx.chargePointId !== chargePointId || tx.connectorId !== connectorId,
    );
  }

  /** StopTransaction.conf's idTagInfo: informative only (a stop cannot be refused), never asks the flow. */
  async stopIdTagInfo(_chargePointId: string, idTag: string): Promise<IdTagInfo> {
    return this.localDecision(idTag, this.options.policy === 'acceptAll' ? 'acceptAll' : 'localList')
      .idTagInfo;
  }

  /**
   * Hands a decision to the flow and waits for `respond`, at most `flowTimeoutMs`; answers
   * `fallback` when nobody listens, the time runs out or the flow's answer is not valid.
   */
  askFlow<T>(
    action: FlowRequest['action'],
    chargePointId: string,
    request: unknown,
    fallback: T,
  ): Promise<T> {
    const id = randomUUID();
    const timeoutMs = this.options.flowTimeoutMs;
    const deadline = new Date(this.runtime.clock.now() + timeoutMs).toISOString();
    return new Promise<T>((resolve) => {
      const timer = this.runtime.clock.setTimeout(() => {
        this.pending.delete(id);
        this.runtime.log.warn(
          `the flow did not answer ${action} from ${chargePointId} within ${timeoutMs} ms; answered ${JSON.stringify(fallback)}`,
        );
        resolve(fallback);
      }, timeoutMs);
      this.pending.set(id, {
        timer,
        resolve: (decision) => resolve(this.checkFlowDecision(action, chargePointId, decision, fallback)),
      });
      const listened = this.emitRequest({ id, chargePointId, action, request, proposal: fallback, deadline });
      if (!listened) this.respond(id, undefined);
    });
  }

  /** The flow's answer to a FlowRequest; false when it was already answered or timed out. */
  respond(requestId: string, decision: unknown): boolean {
    const pending = this.pending.get(requestId);
    if (!pending) return false;
    this.pending.delete(requestId);
    this.runtime.clock.clearTimeout(pending.timer);
    pending.resolve(decision);
    return true;
  }

  /** Outstanding flow requests are answered with their fallback now (the central system stops). */
  close(): void {
    for (const [id, pending] of this.pending) {
      this.runtime.clock.clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.resolve(undefined);
    }
  }

  private async decide(
    action: 'Authorize' | 'StartTransaction',
    chargePointId: string,
    idTag: string,
    connectorId: number | undefined,
  ): Promise<IdTagDecision> {
    if (this.options.policy !== 'flow') return this.localDecision(idTag, this.options.policy);
    const fallback =
      this.options.fallback === 'reject'
        ? { idTagInfo: { status: 'Invalid' as const } }
        : this.localDecision(idTag, this.options.fallback);
    const request = connectorId === undefined ? { idTag } : { idTag, connectorId };
    return this.askFlow(action, chargePointId, request, fallback);
  }

  private localDecision(idTag: string, policy: 'acceptAll' | 'localList'): IdTagDecision {
    const lookup = this.idTags.lookup(idTag, this.runtime.clock.now());
    const priority = lookup.entry?.priority ?? this.parentPriority(lookup.entry);
    // The free-charging tag is the central system's own (RemoteStart uses it): always accepted.
    const free =
      this.options.fixedIdTag !== undefined && this.idTags.sameCard(idTag, this.options.fixedIdTag);
    const idTagInfo: IdTagInfo = policy === 'acceptAll' || free ? { status: 'Accepted' } : lookup.idTagInfo;
    return priority === undefined ? { idTagInfo } : { idTagInfo, priority };
  }

  private parentPriority(entry: IdTagEntry | undefined): number | undefined {
    return entry?.parentIdTag ? this.idTags.get(entry.parentIdTag)?.priority : undefined;
  }

  /** Which tags may run only one transaction at a time, as set or by the policy (see the option). */
  get oneTransactionPerTag(): OneTransactionPerTag {
    if (this.options.oneTransactionPerTag) return this.options.oneTransactionPerTag;
    if (this.options.allowConcurrentTx === true) return 'none';
    return this.options.policy === 'acceptAll' ? 'listed' : 'every';
  }

  /** Whether this tag may run only one transaction at a time. The free-charging tag never is. */
  private oneAtATime(idTag: string): boolean {
    if (this.options.fixedIdTag && this.idTags.sameCard(idTag, this.options.fixedIdTag)) return false;
    const rule = this.oneTransactionPerTag;
    if (rule !== 'listed') return rule === 'every';
    const entry = this.idTags.lookup(idTag, this.runtime.clock.now()).entry;
    const parent = entry?.parentIdTag ? this.idTags.get(entry.parentIdTag) : undefined;
    return entry?.oneAtATime === true || parent?.oneAtATime === true;
  }

  private withConcurrency(
    decision: IdTagDecision,
    idTag: string,
    elsewhere: (tx: { chargePointId: string; connectorId: number }) => boolean,
  ): IdTagDecision {
    if (decision.idTagInfo.status !== 'Accepted' || !this.oneAtATime(idTag)) return decision;
    const busy = this.openTransactions
      .open()
      .some((tx) => elsewhere(tx) && this.idTags.sameCard(tx.idTag, idTag));
    return busy ? { ...decision, idTagInfo: { ...decision.idTagInfo, status: 'ConcurrentTx' } } : decision;
  }

  /**
   * Accepts what a flow may reasonably send: for id tags `true`/`false`, a status string, an
   * idTagInfo-like object (optionally with `priority`), or `{ idTagInfo, priority }`; for
   * DataTransfer and SignCertificate the response payload. Anything else is logged and the
   * fallback answers.
   */
  private checkFlowDecision<T>(
    action: FlowRequest['action'],
    chargePointId: string,
    decision: unknown,
    fallback: T,
  ): T {
    if (decision === undefined) return fallback;
    if (action === 'Authorize' || action === 'StartTransaction') {
      const normalised = normaliseIdTagDecision(decision);
      const violation =
        normalised && findViolation('Authorize', 'response', { idTagInfo: normalised.idTagInfo });
      if (normalised && !violation) return normalised as T;
      this.runtime.log.error(
        `the flow answered ${action} from ${chargePointId} with ${JSON.stringify(decision)}, which is not a decision (${violation?.summary ?? 'expected true/false, a status or { status }'}); answered ${JSON.stringify(fallback)}`,
      );
      return fallback;
    }
    const violation = findViolation(action, 'response', decision);
    if (!violation) return decision as T;
    this.runtime.log.error(
      `the flow answered ${action} from ${chargePointId} with an invalid response (${violation.summary}); answered ${JSON.stringify(fallback)}`,
    );
    return fallback;
  }
}

function normaliseIdTagDecision(decision: unknown): IdTagDecision | undefined {
  if (decision === true) return { idTagInfo: { status: 'Accepted' } };
  if (decision === false) return { idTagInfo: { status: 'Invalid' } };
  if (typeof decision === 'string') return { idTagInfo: { status: decision as IdTagInfo['status'] } };
  if (typeof decision !== 'object' || decision === null) return undefined;
  const record = decision as Record<string, unknown>;
  const info = (
    typeof record.idTagInfo === 'object' && record.idTagInfo !== null ? record.idTagInfo : record
  ) as Record<string, unknown>;
  if (typeof info.status !== 'string') return undefined;
  const idTagInfo: IdTagInfo = { status: info.status as IdTagInfo['status'] };
  if (typeof info.expiryDate === 'string') idTagInfo.expiryDate = info.expiryDate;
  if (typeof info.parentIdTag === 'string') idTagInfo.parentIdTag = info.parentIdTag;
  const priority = record.priority ?? info.priority;
  return typeof priority === 'number' ? { idTagInfo, priority } : { idTagInfo };
}
