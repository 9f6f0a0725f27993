/** The text of lib/ocpp/messages.ts as generated from the OCPP 1.6 schemas (OCPP16_SCHEMAS). */
export function generate(schemas: readonly Record<string, unknown>[]): string;
