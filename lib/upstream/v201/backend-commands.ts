import type { CentralSystem } from '../../ocpp/central-system';
import type { ModelProfile } from '../../ocpp/charging-profiles';
import { ocppError } from '../../ocpp/v16/validation';
import {
  type ChargingProfile201,
  type ClearChargingProfile201,
  clearFrom201,
  profileFrom201,
  refusal201,
} from '../../ocpp/v201/charging-profiles';
import { keyOf } from '../../ocpp/v201/device-model';
import type { Charger, ProxyVoice } from '../charger';
import { keyPolicy, type UpstreamSettings } from '../settings';

type Payload = Record<string, unknown>;

/** The 1.6 names of 2.0.1 commands: the settings' list (upstream.refuse) may name either. */
export const NAMES_16: Readonly<Record<string, string>> = {
  RequestStartTransaction: 'RemoteStartTransaction',
  RequestStopTransaction: 'RemoteStopTransaction',
  SetVariables: 'ChangeConfiguration',
  GetVariables: 'GetConfiguration',
  GetLog: 'GetDiagnostics',
};

/** What the 2.0.1 backend's side needs of the proxy around it. */
export interface Backend201Host {
  cs: CentralSystem;
  settings: UpstreamSettings;
  voice: ProxyVoice;
}

/** What the 2.0.1 side takes from the 1.6 side (backend-commands.ts): passing on, and composing. */
export interface Composer {
  composes(charger: Charger): boolean;
  composeProfile(charger: Charger, action: string, request: unknown): Promise<unknown>;
  forward(identity: string, action: string, request: unknown, asWritten: boolean): Promise<unknown>;
  keepRemoteStartProfile(
    charger: Charger,
    request: unknown,
    convert: (profile: never) => ModelProfile | undefined,
  ): unknown;
}

/**
 * An OCPP 2.0.1 backend's CALLs to a 2.0.1 charger (lib/upstream): passed on as they are (the
 * charger names its transactions itself), refused where the settings say (by either version's
 * name), the configuration ampflow relies on kept (SetVariables of a protected key answered
 * Rejected, the rest passed on), and its charging profiles composed with the load manager's limit
 * as a 1.6 backend's are (the same model, lib/ocpp/charging-profiles).
 */
export class BackendCommands201 {
  constructor(
    private readonly host: Backend201Host,
    private readonly composer: Composer,
  ) {}

  async fromUpstream(charger: Charger, action: string, request: Payload): Promise<unknown> {
    const { settings, voice } = this.host;
    const identity = charger.identity;
    if (settings.refuse.includes(action) || settings.refuse.includes(NAMES_16[action] ?? action)) {
      voice.refuse(identity, action, 'refused by the proxy settings (upstream.refuse)');
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    const profiles = action === 'SetChargingProfile' || action === 'ClearChargingProfile';
    if (profiles && this.composer.composes(charger)) return this.compose(charger, action, request);
    if (profiles && settings.smartCharging === 'refuse') {
      voice.refuse(identity, action, 'smart charging from the backend is refused (upstream.smartCharging)');
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    // A start with a profile: the profile waits for its transaction, composed; the start goes without it.
    if (action === 'RequestStartTransaction' && this.composer.composes(charger)) {
      const start = this.composer.keepRemoteStartProfile(charger, request, (profile: ChargingProfile201) =>
        profileFrom201(profile, undefined),
      ) as Payload;
      return this.forward(identity, action, start);
    }
    if (action === 'SetVariables') return this.setVariables(charger, request);
    return this.forward(identity, action, request);
  }

  /** Passes the backend's CALL to the charger as it is, and the charger's answer back. */
  private forward(identity: string, action: string, request: Payload): Promise<unknown> {
    return this.composer.forward(identity, action, request, true);
  }

  /**
   * The backend sets device-model variables: those holding a key ampflow relies on
   * (upstream.protectedKeys, and reassertKeys, which 2.0.1 keeps as protected) are answered
   * Rejected and the charger keeps its value; the others go to the charger, in the backend's order.
   */
  private async setVariables(charger: Charger, request: Payload): Promise<unknown> {
    type Item = { component: { name: string }; variable: { name: string }; attributeType?: string };
    const items = request.setVariableData as (Item & { attributeValue: string })[];
    const kept = items.map((item) => {
      const key = keyOf(item.component.name, item.variable.name);
      return key !== undefined && keyPolicy(this.host.settings, key) !== undefined ? key : undefined;
    });
    const passed = items.filter((_, at) => kept[at] === undefined);
    for (const [at, key] of kept.entries()) {
      if (key === undefined) continue;
      this.host.voice.refuse(
        charger.identity,
        'SetVariables',
        `${key}=${String(items[at]?.attributeValue)} refused: ampflow relies on ${key} (upstream.protectedKeys); the charger keeps its value`,
      );
    }
    const answered =
      passed.length > 0
        ? (
            (await this.forward(charger.identity, 'SetVariables', { setVariableData: passed })) as {
              setVariableResult: Payload[];
            }
          ).setVariableResult
        : [];
    let next = 0;
    const setVariableResult = items.map((item, at) => {
      if (kept[at] === undefined) return answered[next++] as Payload;
      return {
        attributeStatus: 'Rejected',
        component: item.component,
        variable: item.variable,
        ...(item.attributeType ? { attributeType: item.attributeType } : {}),
      };
    });
    return { setVariableResult };
  }

  /**
   * The backend's SetChargingProfile or ClearChargingProfile, in the shared shapes, composed as a
   * 1.6 backend's are; a profile that cannot be one (external constraints, a transaction not
   * running on its EVSE) is Rejected, said once.
   */
  private compose(charger: Charger, action: string, request: Payload): Promise<unknown> {
    if (action === 'ClearChargingProfile')
      return this.composer.composeProfile(
        charger,
        action,
        clearFrom201(request as unknown as ClearChargingProfile201),
      );
    const shared = this.sharedProfile(charger, request);
    if (typeof shared !== 'string') return this.composer.composeProfile(charger, action, shared);
    this.host.voice.tell(charger.identity, `backend's charging profile rejected: ${shared}`);
    return Promise.resolve({ status: 'Rejected' });
  }

  /** A 2.0.1 SetChargingProfile in the shared shape (its transaction by the ledger's id), or why it cannot be. */
  private sharedProfile(
    charger: Charger,
    request: Payload,
  ): { connectorId: number; csChargingProfiles: ModelProfile } | string {
    const evseId = Number(request.evseId);
    const profile = request.chargingProfile as ChargingProfile201;
    const refusal = refusal201(profile);
    if (refusal) return refusal;
    const ledgerId = this.host.cs.connectorOf(charger.identity, evseId)?.transaction?.transactionId;
    // A TxProfile names the charger's own transaction: it must be the one running on the EVSE.
    const named = profile.transactionId;
    const ofRunning =
      named !== undefined &&
      ledgerId !== undefined &&
      this.host.cs
        .openTransactions()
        .some((tx) => tx.transactionId === ledgerId && tx.chargerTransactionId === named);
    if (named !== undefined && !ofRunning)
      return `transaction ${String(named)} is not running on EVSE ${evseId}`;
    const shared = profileFrom201(profile, ofRunning ? ledgerId : undefined);
    if (!shared) return `a ${profile.chargingProfilePurpose} is not one ampflow composes with its limits`;
    return { connectorId: evseId, csChargingProfiles: shared };
  }
}
