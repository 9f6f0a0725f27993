import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCPP16_SCHEMAS } from '../../../lib/ocpp/v16/schemas';

describe('lib/ocpp/messages.ts', () => {
  it('is what scripts/generate-ocpp-types.mjs makes of the schemas the package validates with', async () => {
    const { generate } = await import('../../../scripts/generate-ocpp-types.mjs');
    const committed = readFileSync(join(__dirname, '..', '..', '..', 'lib', 'ocpp', 'messages.ts'), 'utf8');
    assert.ok(
      committed === generate(OCPP16_SCHEMAS),
      'lib/ocpp/messages.ts is out of date: run npx tsx scripts/generate-ocpp-types.mjs',
    );
  });
});
