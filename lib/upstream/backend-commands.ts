import type { Clock } from '../clock';
import { isCommandFailure } from '../contracts';
import type { CentralSystemAction } from '../ocpp/actions';
import type { CentralSystem } from '../ocpp/central-system';
import type { ModelProfile } from '../ocpp/charging-profiles';
import type {
  ChangeConfigurationRequest,
  ChangeConfigurationResponse,
  ClearChargingProfileRequest,
  GetConfigurationResponse,
  SetChargingProfileRequest,
} from '../ocpp/messages';
import { ocppError } from '../ocpp/v16/validation';
import { OCPP201 } from '../ocpp/v201/schemas';
import type { Charger, ProxyVoice } from './charger';
import { type OperatorConnector, OperatorProfiles } from './operator-profiles';
import { keyPolicy, type UpstreamSettings } from './settings';
import { BackendCommands201, NAMES_16 } from './v201/backend-commands';

/** How long a RemoteStartTransaction's profile waits for its transaction to start. */
const REMOTE_START_PROFILE_MS = 10 * 60_000;

/** What the backend's side needs of the proxy around it. */
export interface BackendHost {
  cs: CentralSystem;
  settings: UpstreamSettings;
  clock: Clock;
  chargers: ReadonlyMap<string, Charger>;
  voice: ProxyVoice;
  emit(event: string, payload: unknown): void;
  keep(charger: Charger): Promise<void>;
  closed(): boolean;
}

/**
 * The backend's side of the proxy: its CALLs to a charger (passed on with the charger's ids,
 * refused where the settings say, its charging profiles kept and composed with the load manager's
 * limit), and ampflow's own commands on their way to a charger (with the charger's ids).
 */
export class BackendCommands {
  /** A 2.0.1 backend's commands to a 2.0.1 charger. */
  private readonly v201: BackendCommands201;

  constructor(private readonly host: BackendHost) {
    this.v201 = new BackendCommands201(host, this);
  }

  async fromUpstream(identity: string, action: string, request: unknown): Promise<unknown> {
    const charger = this.host.chargers.get(identity);
    if (charger?.link.protocol === OCPP201)
      return this.v201.fromUpstream(charger, action, request as Record<string, unknown>);
    const command = action as CentralSystemAction;
    const refuse = this.host.settings.refuse;
    if (refuse.includes(command) || refuse.some((name) => NAMES_16[name] === command)) {
      this.host.voice.refuse(identity, action, 'refused by the proxy settings (upstream.refuse)');
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    const composed = charger !== undefined && this.composes(charger);
    if (charger && composed && (action === 'SetChargingProfile' || action === 'ClearChargingProfile')) {
      return this.composeProfile(charger, action, request);
    }
    if (charger && composed && action === 'RemoteStartTransaction') {
      return this.forward(identity, action, this.keepRemoteStartProfile(charger, request));
    }
    if (
      this.host.settings.smartCharging === 'refuse' &&
      (action === 'SetChargingProfile' || action === 'ClearChargingProfile')
    ) {
      this.host.voice.refuse(
        identity,
        action,
        'smart charging from the backend is refused (upstream.smartCharging)',
      );
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    const key = (request as { key?: unknown }).key;
    const policy =
      action === 'ChangeConfiguration' && typeof key === 'string'
        ? keyPolicy(this.host.settings, key)
        : undefined;
    if (policy === 'block') {
      const value = (request as { value?: unknown }).value;
      this.host.voice.refuse(
        identity,
        action,
        `${String(key)}=${String(value)} refused: ampflow relies on ${String(key)} (upstream.protectedKeys); the charger keeps its value`,
      );
      return { status: 'Rejected' };
    }
    if (policy === 'reassert') return this.reassert(identity, request as ChangeConfigurationRequest);
    return this.forward(identity, action, request);
  }

  /**
   * Whether the backend's limits for this charger are composed with a load manager's: the settings
   * say compose and a load manager manages the charger. Else they pass to the charger as they are
   * (a limit is accepted only where it is applied), said once.
   */
  composes(charger: Charger): boolean {
    if (this.host.settings.smartCharging !== 'compose') return false;
    if (this.host.cs.operatorLimitsComposed(charger.identity)) return true;
    this.host.voice.tell(
      charger.identity,
      "no load manager manages this charger: the backend's charging profiles go to it as they are, and the backend gets its answer",
    );
    return false;
  }

  /**
   * A RemoteStartTransaction with a charging profile (a TxProfile for the transaction it starts):
   * the profile is kept as the backend's, for the transaction that starts next on its connector,
   * and the start goes to the charger without it (the charger's own stack would let it override the
   * load manager's limit, or be overridden by it).
   */
  keepRemoteStartProfile(
    charger: Charger,
    request: unknown,
    convert: (profile: never) => ModelProfile | undefined = (p) => p,
  ): unknown {
    const { chargingProfile, ...start } = request as Record<string, unknown> & {
      chargingProfile?: never;
      connectorId?: number;
      evseId?: number;
    };
    if (!chargingProfile) return request;
    const profile = convert(chargingProfile);
    const connectorId = start.connectorId ?? start.evseId;
    if (profile) {
      charger.remoteStartProfile = {
        profile,
        ...(typeof connectorId === 'number' ? { connectorId } : {}),
        untilMs: this.host.clock.now() + REMOTE_START_PROFILE_MS,
      };
    }
    return start;
  }

  /**
   * The charger starts a transaction on `connectorId`: where the backend's RemoteStartTransaction
   * gave a profile for it, the load manager has its limit before the transaction is recorded (so
   * the first limit the car gets respects it).
   */
  transactionStarting(charger: Charger, connectorId: number): void {
    const profile = this.remoteStartProfileFor(charger, connectorId);
    if (!profile) return;
    const nowMs = this.host.clock.now();
    const probe = new OperatorProfiles();
    const key = { chargerId: -1, upstreamId: -1 };
    probe.set({ connectorId, csChargingProfiles: profile }, key, nowMs);
    const limitA = probe
      .limitsAt([{ connectorId, transaction: { chargerId: -1, startMs: nowMs } }], nowMs)
      .get(connectorId);
    const current = this.host.cs.connectorOf(charger.identity, connectorId)?.operatorLimitA;
    if (limitA !== undefined)
      this.host.cs.setOperatorLimit(charger.identity, connectorId, Math.min(limitA, current ?? limitA));
  }

  /** A transaction started on `connectorId`: the backend's profile of its RemoteStartTransaction holds for it. */
  transactionStarted(charger: Charger, connectorId: number): void {
    const profile = this.remoteStartProfileFor(charger, connectorId);
    if (!profile) return;
    charger.remoteStartProfile = undefined;
    const transaction = this.transactionOn(charger, connectorId);
    const answer = charger.operator.set(
      { connectorId, csChargingProfiles: profile },
      transaction,
      this.host.clock.now(),
    );
    if (answer.status !== 'Accepted')
      this.host.voice.tell(
        charger.identity,
        `backend's RemoteStartTransaction profile not kept: ${answer.reason}`,
      );
    this.host.voice.report({
      chargePointId: charger.identity,
      kind: 'composed',
      action: 'RemoteStartTransaction',
    });
    void this.host.keep(charger);
  }

  /** The profile of the backend's RemoteStartTransaction for a start on `connectorId`, as a TxProfile. */
  private remoteStartProfileFor(charger: Charger, connectorId: number): ModelProfile | undefined {
    const pending = charger.remoteStartProfile;
    if (!pending || (pending.connectorId !== undefined && pending.connectorId !== connectorId))
      return undefined;
    if (pending.untilMs < this.host.clock.now()) {
      charger.remoteStartProfile = undefined;
      return undefined;
    }
    const { transactionId: _named, ...profile } = pending.profile;
    return { ...profile, chargingProfilePurpose: 'TxProfile' };
  }

  /**
   * Passes the backend's CALL to the charger and its answer back: a 1.6 command with the charger's
   * transaction id; `asWritten`, a 2.0.1 command in the charger's own words (it names its own).
   */
  async forward(identity: string, action: string, request: unknown, asWritten = false): Promise<unknown> {
    const charger = this.host.chargers.get(identity);
    const command = action as CentralSystemAction;
    const out = { ...(request as Record<string, unknown>) };
    if (charger && !asWritten && typeof out.transactionId === 'number') {
      out.transactionId = charger.ids.upstreamToCharger(out.transactionId);
    }
    try {
      const answer = await this.host.cs.call(identity, command, out as never, { verbatim: true, asWritten });
      this.host.emit('forwarded', { chargePointId: identity, action, direction: 'down' });
      this.host.voice.report({ chargePointId: identity, kind: 'forwarded', action, direction: 'down' });
      return answer;
    } catch (err) {
      const failure = err as Error & { code?: string; ocppErrorCode?: string };
      if (isCommandFailure(failure) && failure.ocppErrorCode)
        throw ocppError(failure.ocppErrorCode as never, failure.message);
      throw ocppError('GenericError', failure.message);
    }
  }

  /**
   * The backend changes a key ampflow relies on that the settings let it change (reassertKeys):
   * the charger's value is read, the change goes to the charger (the backend gets the charger's
   * answer), and ampflow sets the value it read back, saying so once with both values. A value
   * that cannot be read is not changed (Rejected): ampflow could not put it back.
   */
  private async reassert(identity: string, request: ChangeConfigurationRequest): Promise<unknown> {
    const { cs, voice } = this.host;
    const { key, value } = request;
    const read = (await cs.call(identity, 'GetConfiguration', { key: [key] }).catch(() => undefined)) as
      | GetConfigurationResponse
      | undefined;
    const previous = read?.configurationKey?.find((k) => k.key.toLowerCase() === key.toLowerCase())?.value;
    if (previous === undefined) {
      voice.refuse(
        identity,
        'ChangeConfiguration',
        `${key}=${value} refused: ampflow cannot read ${key} to put it back`,
      );
      return { status: 'Rejected' };
    }
    const answer = (await this.forward(
      identity,
      'ChangeConfiguration',
      request,
    )) as ChangeConfigurationResponse;
    if ((answer.status === 'Accepted' || answer.status === 'RebootRequired') && value !== previous) {
      const back = (await cs
        .call(identity, 'ChangeConfiguration', { key, value: previous })
        .catch((err: Error) => ({ status: `failed (${err.message})` }))) as { status: string };
      const reason = `the backend set ${key}=${value}; ampflow relies on it and put ${previous} back (${back.status})`;
      voice.tell(identity, reason);
      voice.report({ chargePointId: identity, kind: 'reasserted', action: 'ChangeConfiguration', reason });
    }
    return answer;
  }

  /**
   * The backend's SetChargingProfile or ClearChargingProfile (in the shared shapes: a 2.0.1
   * backend's are converted first), kept here; the load manager applies it.
   */
  async composeProfile(charger: Charger, action: string, request: unknown): Promise<unknown> {
    const nowMs = this.host.clock.now();
    let answer: { status: string; reason?: string };
    if (action === 'SetChargingProfile') {
      const set = request as SetChargingProfileRequest;
      answer = charger.operator.set(set, this.transactionOn(charger, set.connectorId), nowMs);
      if (answer.reason)
        this.host.voice.tell(charger.identity, `backend's charging profile rejected: ${answer.reason}`);
    } else {
      answer = charger.operator.clear(request as ClearChargingProfileRequest, nowMs);
    }
    this.applyOperator(charger);
    await this.host.keep(charger);
    this.host.emit('forwarded', { chargePointId: charger.identity, action, direction: 'composed' });
    this.host.voice.report({ chargePointId: charger.identity, kind: 'composed', action });
    return { status: answer.status };
  }

  /** The transaction running on a connector: the charger's id and the backend's id for it. */
  private transactionOn(
    charger: Charger,
    connectorId: number,
  ): { chargerId: number; upstreamId: number } | undefined {
    const ledgerId = this.host.cs.connectorOf(charger.identity, connectorId)?.transaction?.transactionId;
    if (ledgerId === undefined) return undefined;
    const chargerId = charger.ids.ledgerToCharger(ledgerId);
    return { chargerId, upstreamId: charger.ids.byCharger(chargerId)?.upstreamId ?? chargerId };
  }

  /** Tells the central system what the backend's profiles allow each connector now, and when to look again. */
  applyOperator(charger: Charger): void {
    this.host.clock.clearTimeout(charger.operatorTimer);
    charger.operatorTimer = undefined;
    if (this.host.closed()) return;
    const connectors: OperatorConnector[] = this.host.cs
      .connectorsOf(charger.identity)
      .filter((state) => state.connectorId > 0)
      .map((state) => {
        const tx = state.transaction;
        const startMs = tx ? Date.parse(tx.startedAt) : Number.NaN;
        return {
          connectorId: state.connectorId,
          ...(tx
            ? {
                transaction: {
                  chargerId: charger.ids.ledgerToCharger(tx.transactionId),
                  startMs: Number.isFinite(startMs) ? startMs : this.host.clock.now(),
                },
              }
            : {}),
        };
      });
    const nowMs = this.host.clock.now();
    for (const [connectorId, limitA] of charger.operator.limitsAt(connectors, nowMs)) {
      this.host.cs.setOperatorLimit(charger.identity, connectorId, limitA);
    }
    const next = charger.operator.nextChangeAfter(connectors, nowMs);
    if (next !== undefined) {
      charger.operatorTimer = this.host.clock.setTimeout(
        () => this.applyOperator(charger),
        Math.max(0, next - nowMs),
      );
    }
  }

  /** ampflow's own command: its transaction ids become the charger's. */
  ownCommand(identity: string, action: CentralSystemAction, request: unknown): unknown {
    const charger = this.host.chargers.get(identity);
    if (!charger) return request;
    const out = request as Record<string, unknown>;
    if (action === 'RemoteStopTransaction' && typeof out.transactionId === 'number') {
      return { ...out, transactionId: charger.ids.ledgerToCharger(out.transactionId) };
    }
    const profile = out.csChargingProfiles as Record<string, unknown> | undefined;
    if (action === 'SetChargingProfile' && typeof profile?.transactionId === 'number') {
      return {
        ...out,
        csChargingProfiles: { ...profile, transactionId: charger.ids.ledgerToCharger(profile.transactionId) },
      };
    }
    return request;
  }
}
