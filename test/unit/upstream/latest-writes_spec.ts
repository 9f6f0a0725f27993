import assert from 'node:assert/strict';
import { LatestWrites } from '../../../lib/upstream/latest-writes';

/** A write the test finishes by hand; it records the state it took when it started. */
function harness() {
  const state = { value: 0 };
  const started: { key: string; value: number; finish: () => void }[] = [];
  const writes = new LatestWrites<string>(
    (key) =>
      new Promise<void>((resolve) => {
        started.push({ key, value: state.value, finish: resolve });
      }),
  );
  return { state, started, writes };
}

describe('upstream: LatestWrites (the latest state, one write in flight per key)', () => {
  it('writes at once when nothing of that key is in flight, each key on its own', async () => {
    const { started, writes } = harness();
    const a = writes.request('CP1');
    const b = writes.request('CP2');
    assert.deepEqual(
      started.map((s) => s.key),
      ['CP1', 'CP2'],
    );
    for (const s of started) s.finish();
    await Promise.all([a, b]);
  });

  it('serves the requests made during a write with one more write, taking the newest state', async () => {
    const { state, started, writes } = harness();
    let firstDone = false;
    const first = writes.request('CP1').then(() => {
      firstDone = true;
    });
    state.value = 1;
    const second = writes.request('CP1');
    state.value = 2;
    const third = writes.request('CP1');
    assert.equal(second, third, 'the requests made during the write share the next one');
    assert.equal(started.length, 1, 'no second write while the first is in flight');
    started[0]?.finish();
    await first;
    assert.ok(firstDone);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started.length, 2);
    assert.equal(started[1]?.value, 2, 'the second write carries the state as it is when it starts');
    let secondDone = false;
    void second.then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(secondDone, false, 'a request resolves only after a write that started after it');
    started[1]?.finish();
    await second;
    const fourth = writes.request('CP1');
    assert.equal(started.length, 3, 'idle again: the next request writes at once');
    started[2]?.finish();
    await fourth;
  });

  it('goes on after a write that failed, and flush waits for every requested write', async () => {
    const calls: string[] = [];
    let failing = true;
    const writes = new LatestWrites<string>(async (key) => {
      calls.push(key);
      if (failing) {
        failing = false;
        throw new Error('disk full');
      }
    });
    const first = writes.request('CP1');
    const second = writes.request('CP1');
    await writes.flush();
    await first;
    await second;
    assert.deepEqual(calls, ['CP1', 'CP1']);
  });
});
