import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonFileMemory } from '../../../lib/store/json-memory';

/** What a load manager learned, kept in one file (lib/store/json-memory.ts). */
describe('JsonFileMemory', () => {
  let dir: string;
  const warned: string[] = [];
  const logger = { info() {}, warn: (m: string) => warned.push(m), error() {} };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ampflow-memory-'));
    warned.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has nothing before the first save, and reads back the last of several saves in a new directory', async () => {
    const path = join(dir, 'ampflow', 'load-manager-1.json');
    const memory = new JsonFileMemory(path, logger);
    assert.equal(memory.load(), undefined);
    memory.save({ round: 1 });
    memory.save({ round: 2 });
    memory.save({ round: 3 });
    await memory.flush();
    assert.deepEqual(new JsonFileMemory(path, logger).load(), { round: 3 });
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { round: 3 });
    assert.deepEqual(warned, []);
  });

  it('learns anew from a file that is not JSON, and says which file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"round": 1');
    assert.equal(new JsonFileMemory(path, logger).load(), undefined);
    assert.equal(warned.length, 1);
    assert.match(warned[0] ?? '', /broken\.json is not valid JSON .*; learning anew/);
  });

  it('logs a write it cannot make instead of throwing', async () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'not a directory');
    const memory = new JsonFileMemory(join(blocker, 'memory.json'), logger);
    memory.save({ round: 1 });
    await memory.flush();
    assert.equal(warned.length, 1);
    assert.match(warned[0] ?? '', /cannot write .*memory\.json/);
  });
});
