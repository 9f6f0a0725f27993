import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OCPP16_SCHEMAS, OCPP16_VALIDATOR } from '../../../lib/ocpp/v16/schemas';

/**
 * The package validates with its own copy of the OCA 1.6 schemas (ocpp-rpc does not export its
 * copy). Until now it validated with ocpp-rpc's: the two must accept exactly the same messages.
 * The comparison reads ocpp-rpc's copy as a data file and ignores keywords that constrain
 * nothing (`additionalProperties` on a string, `additionalItems` beside a single `items` schema,
 * the OCA generator's `javaType`) and the draft named in `$schema`.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function withoutNoOps(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(withoutNoOps);
  if (schema === null || typeof schema !== 'object') return schema;
  const kept: Record<string, Json> = {};
  for (const key of Object.keys(schema).sort()) {
    const value = schema[key] as Json;
    if (key === '$schema' || key === 'javaType') continue;
    if (key === 'additionalProperties' && schema.type !== 'object') continue;
    if (key === 'additionalItems' && !Array.isArray(schema.items)) continue;
    kept[key] = withoutNoOps(value);
  }
  return kept;
}

describe('lib/ocpp/v16/schemas.ts', () => {
  it('accepts what the schemas bundled with ocpp-rpc accept, no more, no less', () => {
    const bundledPath = join(dirname(require.resolve('ocpp-rpc')), 'lib', 'schemas', 'ocpp1_6.json');
    const bundled = JSON.parse(readFileSync(bundledPath, 'utf8')) as Json[];
    const ours = OCPP16_SCHEMAS as unknown as Json[];
    assert.deepEqual(ours.map(withoutNoOps), bundled.map(withoutNoOps));
  });

  it('is the validator the central system uses: a 1.6 request is checked by action', () => {
    assert.equal(OCPP16_VALIDATOR.validate('urn:Heartbeat.req', {}), true);
    assert.throws(() => OCPP16_VALIDATOR.validate('urn:Authorize.req', {}), /idTag/);
  });
});
