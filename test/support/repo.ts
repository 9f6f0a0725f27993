import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The checkout the tests run in. */
export const repoRoot = join(__dirname, '..', '..');

/** The package's package.json (its name, version and `node-red.nodes`). */
export const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
