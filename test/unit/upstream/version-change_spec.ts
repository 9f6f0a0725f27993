import assert from 'node:assert/strict';
import type { UpstreamEvent } from '../../../lib/contracts';
import { until, waitFor } from '../../support/events';
import { useUpstreamSite } from './support';
import { Backend201, charger201 } from './support201';

/**
 * A charger whose firmware moves it from OCPP 1.6 to 2.0.1 while its operator's backend is away:
 * the 1.6 simulator (CP1) and then the independent 2.0.1 test charger (plain `ws`, typed-ocpp's
 * schemas) under the same identity, and a strict ocpp-rpc backend that speaks both versions.
 */
describe('upstream proxy: a charger that changes OCPP version', () => {
  const { interop, site, connected, charging } = useUpstreamSite(
    () => new Backend201(['ocpp1.6', 'ocpp2.0.1']),
  );

  it('flushes what waited in 1.6 words when it comes back speaking 2.0.1, says so, and sends nothing of it on the 2.0.1 link', async () => {
    const { backend, cs, proxy, cp } = await site();
    await connected(backend, cp);
    assert.equal(backend.protocols.get('CP1'), 'ocpp1.6');
    await backend.stop();
    await until(() => proxy.status()[0]?.state === 'connecting', [[proxy, 'link']], 5000);
    await charging(cp);
    await cp.close();
    const waiting = proxy.status()[0]?.queued ?? 0;
    assert.ok(waiting > 0, 'the session’s start waits for the backend');

    const flushed = waitFor<[UpstreamEvent]>(cs, 'upstream', (event) => event.kind === 'flushed');
    await backend.start();
    const station = charger201(cs, 'CP1', (charger) => interop.track(charger));
    await station.connect();
    const [event] = await flushed;
    assert.equal(event.requests?.length, waiting);
    assert.ok(event.requests?.some((request) => request.action === 'StartTransaction'));
    assert.match(
      event.reason ?? '',
      /now speaks ocpp2\.0\.1, not ocpp1\.6: \d+ request\(s\) in ocpp1\.6 words/,
    );
    assert.ok(interop.harness().log.matching(/CP1: it now speaks ocpp2\.0\.1/, 'warn').length > 0);
    assert.equal((await station.boot()).status, 'Accepted');
    assert.equal(backend.protocols.get('CP1'), 'ocpp2.0.1');
    assert.equal(proxy.status()[0]?.queued, 0);
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), {}, 'nothing of it stays in the durable record');
    const after = backend.calls.filter(
      (call) => call.identity === 'CP1' && call.action === 'StartTransaction',
    );
    assert.equal(after.length, 0, 'no 1.6 request went up');
    assert.deepEqual(backend.badMessages, []);
    assert.deepEqual(station.violations, []);
  });
});
