import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('lib/ocpp/messages.ts', () => {
  it('is what scripts/generate-ocpp-types.mjs makes of the schemas ocpp-rpc validates with', async () => {
    const { generate } = await import('../../../scripts/generate-ocpp-types.mjs');
    const committed = readFileSync(join(__dirname, '..', '..', '..', 'lib', 'ocpp', 'messages.ts'), 'utf8');
    assert.ok(
      committed === generate(),
      'lib/ocpp/messages.ts is out of date: run node scripts/generate-ocpp-types.mjs',
    );
  });
});
