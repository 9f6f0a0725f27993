/** The text of lib/ocpp/messages.ts as generated from ocpp-rpc's OCPP 1.6 schemas. */
export function generate(): string;
