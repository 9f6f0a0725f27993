import { createRPCError, type createValidator } from 'ocpp-rpc';
import { OCPP16_VALIDATOR } from '../lib/ocpp/v16/schemas';

/**
 * Strict OCPP 1.6 validation for the simulator, with room for deliberate deviations: a vendor quirk
 * that breaks the schema marks its payload, and exactly that payload is let through. Everything
 * else (other requests, every response in both directions) is checked as ocpp-rpc's strict mode
 * checks it, with the package's 1.6 schemas (lib/ocpp/v16/schemas.ts).
 */

/** ocpp-rpc's validator type, as its public `createValidator` returns it. */
type Validator = ReturnType<typeof createValidator>;
const standard: Validator = OCPP16_VALIDATOR;

const deliberateDeviations = new WeakSet<object>();

/** Marks a request a quirk deliberately made invalid, so strict validation lets this one object through. */
export function markDeviation(payload: object): void {
  deliberateDeviations.add(payload);
}

/**
 * The validator handed to ocpp-rpc (`strictModeValidators`): the standard one, except for marked
 * outbound requests. Inbound calls are parsed from JSON, so they are never marked.
 */
export const quirkTolerantValidator: Validator = Object.assign(Object.create(standard) as Validator, {
  validate(schemaId: string, params: unknown) {
    if (
      schemaId.endsWith('.req') &&
      typeof params === 'object' &&
      params !== null &&
      deliberateDeviations.has(params)
    ) {
      return true;
    }
    return standard.validate(schemaId, params);
  },
});

/**
 * Validates as ocpp-rpc's strict mode would, for connections where ocpp-rpc cannot (no agreed
 * sub-protocol). Throws the RPC error strict mode would produce.
 */
export function validateOcpp16(schemaId: string, value: unknown): void {
  try {
    quirkTolerantValidator.validate(schemaId, value);
  } catch (err) {
    // OCPP-J 1.6 table 7 names the code FormationViolation (kept by errata 5.2); OccurenceConstraintViolation
    // keeps its 1.6 spelling (errata 5.1), which is what ocpp-rpc's validator produces.
    const rpc = err as Error & { rpcErrorCode?: string; details?: Record<string, unknown> };
    if (rpc.rpcErrorCode === 'FormatViolation') {
      throw createRPCError('FormationViolation', rpc.message, rpc.details ?? {}) as unknown as Error;
    }
    throw err;
  }
}

/** The RPC error for an answer of ours that does not fit the schema, as ocpp-rpc sends it. */
export function internalError(): Error {
  return createRPCError('InternalError') as unknown as Error;
}
