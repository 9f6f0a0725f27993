import type { ProfileContext } from './context';
import type { ChargerEntry, ConnectorEntry } from './state';
import type { ChargingStrategy, LimitMethod } from './strategies';

/**
 * The step a charger's limits go in, as its model takes them: the one rule that says "this model
 * takes whole amperes" (issue 39). The strategy owns it: its `limitStepA`, or a whole-ampere vendor
 * key (Schneider EVlink's maxIntensitySocket, vendor doc 003 §8) that sets the connector's limit,
 * because the strategy has no other method (EVlink R4/R5) or the key holds the connector now
 * (EVlink R6/R7 after its profiles were refused). The load manager asks nothing of the charger's
 * model: it reads the step the central system keeps on the connector (`ConnectorState.limitStep`)
 * and allocates in it, unless the site gives the connector a `stepA` of its own.
 *
 * ChargingScheduleAllowedChargingRateUnit says A or W, not how fine: it decides no step.
 */
export interface LimitStep {
  stepA: number;
  why: string;
}

/** The step a strategy's limits take while `method` holds the connector; undefined: any (0.1 A). */
export function limitStepOf(
  strategy: ChargingStrategy,
  method: LimitMethod | undefined,
): LimitStep | undefined {
  if (strategy.limitStepA !== undefined)
    return {
      stepA: strategy.limitStepA,
      why: `${strategy.name} takes limits in steps of ${strategy.limitStepA} A`,
    };
  const key = strategy.configurationKey;
  if (!key?.wholeAmps) return undefined;
  const keyOnly =
    strategy.sessionMethods.every((m) => m === 'ConfigurationKey') &&
    strategy.idleMethods.every((m) => m === 'ConfigurationKey');
  if (!keyOnly && method !== 'ConfigurationKey') return undefined;
  return { stepA: 1, why: `${strategy.name}: ${key.key} takes whole amperes` };
}

/** Tells the central system the connector's step when it changed (its strategy, or the method that holds it). */
export function tellLimitStep(ctx: ProfileContext, charger: ChargerEntry, connector: ConnectorEntry): void {
  if (ctx.closed || connector.connectorId === 0) return;
  const step = limitStepOf(charger.strategy, connector.enforced?.method);
  const told = step ? `${step.stepA}|${step.why}` : '';
  if (connector.limitStepTold === told) return;
  connector.limitStepTold = told;
  ctx.cs.reportLimitStep(charger.chargePointId, connector.connectorId, step);
}

/** Every connector of the charger (its strategy was resolved again). */
export function tellLimitSteps(ctx: ProfileContext, charger: ChargerEntry): void {
  for (const connector of charger.connectors.values()) tellLimitStep(ctx, charger, connector);
}
