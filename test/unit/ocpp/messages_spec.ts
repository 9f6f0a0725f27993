import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCPP16_SCHEMAS } from '../../../lib/ocpp/v16/schemas';

describe('lib/ocpp/messages.ts', () => {
  it('is what scripts/generate-ocpp-types.mjs makes of the schemas the package validates with', async () => {
    const { generate } = await import('../../../scripts/generate-ocpp-types.mjs');
    for (const [name, text] of Object.entries(
      generate(OCPP16_SCHEMAS) as unknown as Record<string, string>,
    )) {
      const committed = readFileSync(join(__dirname, '..', '..', '..', 'lib', 'ocpp', name), 'utf8');
      assert.ok(
        committed === text,
        `lib/ocpp/${name} is out of date: run npx tsx scripts/generate-ocpp-types.mjs`,
      );
    }
  });
});
