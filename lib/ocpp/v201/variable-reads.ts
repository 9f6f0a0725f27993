/**
 * GetVariables split to fit the station (OCPP 2.0.1 B06): a station takes at most
 * DeviceDataCtrlr.ItemsPerMessage[GetVariables] items and BytesPerMessage[GetVariables] bytes in
 * one request (more may be refused with a CALLERROR, OccurrenceConstraintViolation or
 * FormatViolation, and the whole read is lost). Both are read once per connection, before its first
 * GetVariables of more than two items, in a request of two items (a request of two items or fewer
 * goes as it is until then); a station that does not report them (or refuses the read) gets each
 * request whole, as before. A request over a limit goes as several, one after the
 * other, and their results are put together in the order asked: the caller sees one answer.
 */

type Payload = Record<string, unknown>;
type Item = Record<string, unknown>;

/** What one GetVariables of the station takes; undefined: not reported. */
export interface GetVariablesLimits {
  items?: number;
  bytes?: number;
}

const limitItem = (name: string): Item => ({
  component: { name: 'DeviceDataCtrlr' },
  variable: { name, instance: 'GetVariables' },
});
const LIMIT_ITEMS = [limitItem('ItemsPerMessage'), limitItem('BytesPerMessage')];

/** An OCPP-J CALL frame's own bytes around the payload: `[2,"<36-character id>","GetVariables",…]`. */
const FRAME_OVERHEAD = Buffer.byteLength(JSON.stringify([2, 'x'.repeat(36), 'GetVariables', null])) - 4;

export class VariableReads {
  private limits: Promise<GetVariablesLimits> | undefined;

  /** The limits, read once per connection (`send`: one GetVariables as it goes). */
  limitsOf(send: (request: Payload) => Promise<unknown>): Promise<GetVariablesLimits> {
    this.limits ??= send({ getVariableData: LIMIT_ITEMS }).then(readLimits, () => ({}));
    return this.limits;
  }

  /** One GetVariables, sent in as many parts as the station's limits ask; one answer. */
  async send(request: Payload, send: (request: Payload) => Promise<unknown>): Promise<unknown> {
    const items = request.getVariableData;
    if (!Array.isArray(items)) return send(request);
    // No bigger than the limits' own read: a station that could not take it could not tell them.
    if (items.length <= LIMIT_ITEMS.length && this.limits === undefined) return send(request);
    const parts = splitItems(items as Item[], await this.limitsOf(send));
    if (parts.length <= 1) return send(request);
    const results: unknown[] = [];
    for (const part of parts) {
      const answer = (await send({ ...request, getVariableData: part })) as Payload | null;
      results.push(...((answer?.getVariableResult as unknown[] | undefined) ?? []));
    }
    return { getVariableResult: results };
  }
}

function readLimits(response: unknown): GetVariablesLimits {
  const results = ((response as Payload | null)?.getVariableResult ?? []) as {
    attributeStatus?: string;
    attributeValue?: string;
    variable?: { name?: string };
  }[];
  const limits: GetVariablesLimits = {};
  for (const result of results) {
    const value = Number(result.attributeValue);
    if (result.attributeStatus !== 'Accepted' || !Number.isInteger(value) || value < 1) continue;
    const name = result.variable?.name?.toLowerCase();
    if (name === 'itemspermessage') limits.items = value;
    if (name === 'bytespermessage') limits.bytes = value;
  }
  return limits;
}

/**
 * The items in parts of at most `items` items whose request, framed, is at most `bytes` bytes; an
 * item that alone is over the bytes goes alone (the station answers it as it will).
 */
export function splitItems(all: readonly Item[], limits: GetVariablesLimits): Item[][] {
  const maxItems = limits.items ?? Number.POSITIVE_INFINITY;
  const maxBytes = limits.bytes ?? Number.POSITIVE_INFINITY;
  const empty = FRAME_OVERHEAD + Buffer.byteLength('{"getVariableData":[]}');
  const parts: Item[][] = [];
  let part: Item[] = [];
  let bytes = empty;
  for (const item of all) {
    const size = Buffer.byteLength(JSON.stringify(item)) + (part.length > 0 ? 1 : 0);
    if (part.length > 0 && (part.length >= maxItems || bytes + size > maxBytes)) {
      parts.push(part);
      part = [];
      bytes = empty;
    }
    bytes += Buffer.byteLength(JSON.stringify(item)) + (part.length > 0 ? 1 : 0);
    part.push(item);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}
