import type { Authorizer } from './authorization';
import type { CentralEvent, CentralState, StateLog } from './central-state';
import { type CentralSystemAction, CommandError } from './connection';
import type { HandlerParts } from './handlers-host';
import type { OcppRequest, OcppResponse } from './messages';
import { passwordAccepted } from './rotated-passwords';

/**
 * Configuration keys never stored: the whitepaper makes AuthorizationKey write-only for a reason.
 * Keys are CiString50 (OCPP 1.6 section 7.17: case insensitive), so compared in lower case.
 */
const SECRET_CONFIGURATION_KEYS = new Set(['authorizationkey']);
const isSecretKey = (key: string) => SECRET_CONFIGURATION_KEYS.has(key.toLowerCase());

/** Entries per SendLocalList when the charger does not say (SendLocalListMaxLength). */
const DEFAULT_LOCAL_LIST_CHUNK = 100;

/**
 * What the central system's own commands change or reveal of a charger, kept in the durable record
 * (its configuration, its local list's version), and bringing its local authorization list up to
 * date. The answers to the chargers' own messages are handlers.ts's.
 */
export class CommandRecords {
  constructor(
    private readonly cs: Pick<HandlerParts, 'gate' | 'charges'>,
    private readonly stateLog: StateLog<CentralState, CentralEvent>,
    private readonly authorizer: Authorizer,
  ) {}

  /**
   * Keeps the durable record in step with what a command changed or revealed; undefined for the
   * commands it records nothing of (every SetChargingProfile: no promise, no turn of its own).
   */
  afterCommand(
    chargePointId: string,
    action: CentralSystemAction,
    request: unknown,
    response: unknown,
  ): Promise<void> | undefined {
    // Own fields only: an action is checked before it gets here, but never a prototype's method.
    return Object.hasOwn(this.recorders, action)
      ? this.recorders[action]?.(chargePointId, request, response)
      : undefined;
  }

  /** What each recorded command keeps: the commands recorded are this table's, and only its. */
  private readonly recorders: Partial<
    Record<CentralSystemAction, (chargePointId: string, request: unknown, response: unknown) => Promise<void>>
  > = {
    GetConfiguration: async (chargePointId, request, response) => {
      const asked = (request as OcppRequest<'GetConfiguration'>).key ?? [];
      const keys = ((response as OcppResponse<'GetConfiguration'>).configurationKey ?? []).filter(
        (key) => !isSecretKey(key.key),
      );
      await this.stateLog.append({
        type: 'chargerConfiguration',
        chargePointId,
        at: this.cs.charges.nowIso(),
        keys,
        complete: asked.length === 0,
      });
    },
    ChangeConfiguration: async (chargePointId, request, response) => {
      const { key, value } = request as OcppRequest<'ChangeConfiguration'>;
      const { status } = response as OcppResponse<'ChangeConfiguration'>;
      const accepted = status === 'Accepted' || status === 'RebootRequired';
      if (accepted && isSecretKey(key)) {
        // The charger's new password (A01): accepted from now on, the old one until it is used.
        const at = this.cs.charges.nowIso();
        const before = this.stateLog.state.chargers[chargePointId]?.password;
        const password = passwordAccepted(before, Buffer.from(value, 'utf8'), at);
        await this.stateLog.append({ type: 'chargerPassword', chargePointId, at, password });
      }
      if (accepted && !isSecretKey(key)) {
        const keys = [{ key, value, readonly: false }];
        await this.stateLog.append({
          type: 'chargerConfiguration',
          chargePointId,
          at: this.cs.charges.nowIso(),
          keys,
          complete: false,
        });
      }
    },
    SendLocalList: async (chargePointId, request, response) => {
      if ((response as OcppResponse<'SendLocalList'>).status === 'Accepted') {
        const version = (request as OcppRequest<'SendLocalList'>).listVersion;
        await this.stateLog.append({ type: 'chargerLocalListVersion', chargePointId, version });
      }
    },
    GetLocalListVersion: async (chargePointId, _request, response) => {
      const version = (response as OcppResponse<'GetLocalListVersion'>).listVersion;
      await this.stateLog.append({ type: 'chargerLocalListVersion', chargePointId, version });
    },
  };

  /**
   * Brings the charger's local authorization list to the current version: a Differential update
   * when the charger's version is known and still in the history, else a Full one; a
   * VersionMismatch on a Differential update is answered with a Full one.
   */
  async pushLocalList(chargePointId: string, options: { full?: boolean }) {
    const record = this.stateLog.state.chargers[chargePointId];
    const maxKey = record?.configuration?.keys.find((key) => key.key === 'SendLocalListMaxLength')?.value;
    const chunk = Math.floor(Number(maxKey)) >= 1 ? Math.floor(Number(maxKey)) : DEFAULT_LOCAL_LIST_CHUNK;
    const send = async (chargerVersion: number | undefined) => {
      const updates = this.authorizer.idTags.localListUpdates(chargerVersion, chunk);
      for (const update of updates) {
        const { status } = await this.cs.gate.call(chargePointId, 'SendLocalList', update);
        if (status !== 'Accepted') return { status, update };
      }
      return { status: 'Accepted' as const, update: updates[updates.length - 1] };
    };
    let result = await send(options.full ? undefined : record?.localListVersion);
    // Section 5.15: after Failed or VersionMismatch on a Differential update, retry with Full.
    const refusedDifferential = result.status === 'VersionMismatch' || result.status === 'Failed';
    if (refusedDifferential && result.update?.updateType === 'Differential') {
      result = await send(undefined);
    }
    if (result.status !== 'Accepted') {
      throw new CommandError(
        `charge point ${chargePointId} answered SendLocalList with ${result.status}${result.status === 'NotSupported' ? ' (no local authorization list support)' : ''}`,
        'CallError',
      );
    }
    return { listVersion: this.authorizer.idTags.version, updateType: result.update?.updateType ?? 'none' };
  }
}
