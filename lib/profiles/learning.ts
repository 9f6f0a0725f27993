import type { OcppRequest, OcppResponse } from '../ocpp/messages';
import { CAPABILITY_KEYS, type ChargerCapabilities, parseCapabilities } from './capabilities';
import type { ProfileContext } from './context';
import { isStoredFacts, type StoredFacts } from './facts';
import { tellLimitSteps } from './limit-step';
import { emptyMemory } from './plan';
import { type ChargerEntry, isRefusal } from './state';
import { type BootInfo, type ChargingStrategy, resolveStrategy } from './strategies';

/** The name under which the central system keeps this room's facts about a charger. */
const PROFILES_ROOM = 'profiles';

/**
 * What the manager knows of a charger: its strategy, what it can do (its smart-charging keys, read
 * once per boot), and what it took and refused (the memory). The memory is kept in the charger's
 * durable record through the port (storeData/storedData) and holds while the firmware and the
 * strategy are the same.
 */
export class Learning {
  constructor(private readonly ctx: ProfileContext) {}

  strategyFor(chargePointId: string): ChargingStrategy {
    const boot = this.ctx.cs.bootOf(chargePointId);
    const choice = this.ctx.options.chargers?.[chargePointId] ?? this.ctx.options.strategy;
    return resolveStrategy(
      choice,
      boot,
      this.ctx.options.chargers?.[chargePointId] ? `chargers.${chargePointId}` : 'strategy',
    );
  }

  /** What an earlier run learned holds while the firmware and the strategy are the same. */
  restore(charger: ChargerEntry): void {
    const chargePointId = charger.chargePointId;
    const facts = this.ctx.cs.storedData(chargePointId, PROFILES_ROOM);
    if (
      isStoredFacts(facts) &&
      facts.firmware === charger.firmware &&
      facts.strategy === charger.strategy.name
    ) {
      charger.memory = structuredClone(facts.memory);
      charger.compositeUnsupported = facts.compositeUnsupported;
      if (facts.remoteStartProfileRefused !== undefined)
        charger.remoteStartProfileRefused = facts.remoteStartProfileRefused;
      // Ours from before the restart may still be installed: cleared once nothing needs it.
      if (facts.chargePointMaxProfile) charger.chargePointMax = { state: 'unknown' };
      charger.stored = JSON.stringify(facts);
    } else if (facts !== undefined && !isStoredFacts(facts)) {
      this.ctx.log.warn(
        `the smart-charging facts in the record of ${chargePointId} are not readable; starting afresh`,
      );
    }
  }

  /** Writes what was learned to the charger's durable record when it changed. */
  store(charger: ChargerEntry): void {
    const facts: StoredFacts = {
      version: 1,
      ...(charger.firmware === undefined ? {} : { firmware: charger.firmware }),
      strategy: charger.strategy.name,
      memory: charger.memory,
      compositeUnsupported: charger.compositeUnsupported,
      ...(charger.remoteStartProfileRefused === undefined
        ? {}
        : { remoteStartProfileRefused: charger.remoteStartProfileRefused }),
      ...(charger.chargePointMax.state === 'none' ? {} : { chargePointMaxProfile: true }),
    };
    const json = JSON.stringify(facts);
    if (json === charger.stored || this.ctx.closed) return;
    charger.stored = json;
    this.ctx.cs.storeData(charger.chargePointId, PROFILES_ROOM, JSON.parse(json)).catch((err: Error) => {
      // Not kept: the next change writes again.
      if (charger.stored === json) charger.stored = undefined;
      this.ctx.log.warn(`could not keep what ${charger.chargePointId} takes in its record: ${err.message}`);
    });
  }

  /** Reads the charger's smart-charging keys once per boot (from its record when fresh, else GetConfiguration). */
  learn(charger: ChargerEntry): Promise<void> | undefined {
    // Known already: nothing to wait for (no turn of its own before the command goes).
    if (charger.capabilities) return undefined;
    charger.learning ??= this.readCapabilities(charger).finally(() => {
      charger.learning = undefined;
    });
    return charger.learning;
  }

  private async readCapabilities(charger: ChargerEntry): Promise<void> {
    const id = charger.chargePointId;
    const strategy = this.strategyFor(id);
    if (strategy.name !== charger.strategy.name) {
      // What worked with the other strategy's ways says nothing about this one's.
      charger.memory = emptyMemory();
      charger.refusedAtMs.clear();
      delete charger.remoteStartProfileRefused;
    }
    charger.strategy = strategy;
    tellLimitSteps(this.ctx, charger);
    const extraKeys = charger.strategy.configurationKey ? [charger.strategy.configurationKey.key] : [];
    const record = this.ctx.cs.recordOf(id);
    const configuration = record?.configuration;
    const has = (name: string) =>
      configuration?.keys.some((key) => key.key.toLowerCase() === name.toLowerCase());
    // A configuration read after the last boot, that was a full read (every charger lists its feature profiles).
    const fresh =
      configuration !== undefined &&
      (record?.boot === undefined || configuration.at >= record.boot.at) &&
      has('SupportedFeatureProfiles') &&
      extraKeys.every(has);
    let capabilities: ChargerCapabilities;
    if (fresh && configuration) {
      capabilities = parseCapabilities(configuration.keys, { extraKeys, at: configuration.at });
    } else {
      try {
        const response = await this.ctx.call(charger, 'GetConfiguration', {
          key: [...CAPABILITY_KEYS, ...extraKeys],
        });
        capabilities = parseCapabilities(response.configurationKey ?? [], {
          unknownKeys: response.unknownKey ?? [],
          extraKeys,
          at: this.ctx.nowIso(),
        });
      } catch (err) {
        if (!isRefusal(err)) throw err;
        this.ctx.log.warn(
          `charge point ${id} did not tell its smart-charging keys (${(err as Error).message}); the strategy's defaults apply`,
        );
        capabilities = { vendorKeys: {}, unknownKeys: [], learnedAt: this.ctx.nowIso() };
      }
    }
    charger.capabilities = capabilities;
    this.ctx.publish('learned', { chargePointId: id, strategy: charger.strategy.name, capabilities });
  }

  /** A charger booted: what it can do is read again, and what it takes is forgotten with a new firmware. */
  booted(charger: ChargerEntry, boot: BootInfo): void {
    charger.capabilities = undefined;
    if (charger.firmware !== undefined && charger.firmware !== boot.firmwareVersion) {
      // New firmware may take what the old refused (or the reverse).
      charger.memory = emptyMemory();
      charger.refusedAtMs.clear();
      charger.compositeUnsupported = false;
      delete charger.remoteStartProfileRefused;
    }
    if (boot.firmwareVersion !== undefined) charger.firmware = boot.firmwareVersion;
    // Kept before (or a write that failed): the record follows the firmware.
    if (charger.stored !== undefined || Object.keys(charger.memory.worked).length > 0) this.store(charger);
  }

  /** A command sent by anyone: a full GetConfiguration (the central system's after a boot) tells what the manager needs. */
  commandSeen(
    charger: ChargerEntry | undefined,
    event: { action: string; request: unknown; response?: unknown },
  ): void {
    if (event.action !== 'GetConfiguration' || event.response === undefined) return;
    const asked = (event.request as OcppRequest<'GetConfiguration'> | undefined)?.key ?? [];
    if (!charger || charger.learning || asked.length > 0) return;
    const response = event.response as OcppResponse<'GetConfiguration'>;
    const extraKeys = charger.strategy.configurationKey ? [charger.strategy.configurationKey.key] : [];
    charger.capabilities = parseCapabilities(response.configurationKey ?? [], {
      extraKeys,
      at: this.ctx.nowIso(),
    });
  }
}
