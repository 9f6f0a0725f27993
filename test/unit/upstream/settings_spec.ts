import assert from 'node:assert/strict';
import {
  keyPolicy,
  parseUpstreamSettings,
  spellIdTag,
  upstreamEndpoint,
} from '../../../lib/upstream/settings';

/** The operator's backend as an integrator types it (editor or ampflow-cs --upstream). */
describe('upstream proxy settings', () => {
  it('takes the backend URL with {identity} at its end, or appends the identity (OCPP-J 1.6 §3.1)', () => {
    assert.equal(
      upstreamEndpoint('wss://evse.provider.example:9999/ocpp/WebSocket/{identity}'),
      'wss://evse.provider.example:9999/ocpp/WebSocket',
    );
    assert.equal(upstreamEndpoint('ws://backend.example/ocpp/'), 'ws://backend.example/ocpp');
    assert.throws(
      () => upstreamEndpoint('ws://backend.example/{identity}/ocpp'),
      /^ConfigError: upstream\.url: \{identity\} must end the URL/,
    );
    assert.throws(
      () => upstreamEndpoint('http://backend.example/ocpp'),
      /upstream\.url: .* is not a ws:\/\/ or wss:\/\/ URL/,
    );
  });

  it('defaults for a real site: the backend decides while it answers, its profiles are composed, nothing refused', () => {
    const settings = parseUpstreamSettings({ url: 'ws://backend.example/ocpp/{identity}' });
    assert.deepEqual(Object.values(settings.decide), [
      'upstream',
      'upstream',
      'upstream',
      'upstream',
      'upstream',
    ]);
    assert.equal(settings.smartCharging, 'compose');
    assert.deepEqual(settings.refuse, []);
    assert.ok(settings.protectedKeys.includes('MeterValueSampleInterval'));
    assert.deepEqual(settings.reassertKeys, []);
    // Keys are CiString50: any letter case; a key to put back is not refused.
    assert.equal(keyPolicy(settings, 'metervaluesampleINTERVAL'), 'block');
    assert.equal(keyPolicy(settings, 'HeartbeatInterval'), undefined);
    assert.equal(
      keyPolicy(
        parseUpstreamSettings({ url: 'ws://b.example/{identity}', reassertKeys: 'MeterValueSampleInterval' }),
        'MeterValueSampleInterval',
      ),
      'reassert',
    );
    assert.deepEqual(
      [settings.decideWithinMs, settings.reconnect.initialDelayMs, settings.reconnect.maxDelayMs],
      [8_000, 1_000, 60_000],
    );
  });

  it('names the field at fault', () => {
    const url = 'ws://backend.example/ocpp/{identity}';
    assert.throws(
      () => parseUpstreamSettings({ url, smartCharging: 'obey' }),
      /upstream\.smartCharging: "obey" is not one of compose, forward, refuse/,
    );
    assert.throws(
      () => parseUpstreamSettings({ url, decide: { Heartbeat: 'local' } }),
      /upstream\.decide\.Heartbeat/,
    );
    assert.throws(
      () => parseUpstreamSettings({ url, decide: { Authorize: 'maybe' } }),
      /upstream\.decide\.Authorize: "maybe"/,
    );
    assert.throws(
      () => parseUpstreamSettings({ url, refuse: 'Reset, Heartbeat' }),
      /upstream\.refuse: Heartbeat is not a command/,
    );
    // A command only OCPP 2.0.1 has may be refused too (a 2.0.1 charger's backend sends it).
    assert.deepEqual(parseUpstreamSettings({ url, refuse: 'GetBaseReport, Reset' }).refuse, [
      'GetBaseReport',
      'Reset',
    ]);
    assert.throws(() => parseUpstreamSettings({ url, callTimeoutMs: '5' }), /upstream\.callTimeoutMs: /);
    assert.throws(
      () =>
        parseUpstreamSettings({
          url,
          tlsPrivateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
        }),
      /a client certificate needs its private key, and the key its certificate/,
    );
  });

  it('spells id tags as a provider wants them', () => {
    assert.equal(spellIdTag('0a0e9b83', { idTagCase: 'upper', idTagByteOrder: 'asIs' }), '0A0E9B83');
    assert.equal(spellIdTag('0a0e9b83', { idTagCase: 'asIs', idTagByteOrder: 'reversed' }), '839b0e0a');
    assert.equal(
      spellIdTag('STAFF-1', { idTagCase: 'lower', idTagByteOrder: 'reversed' }),
      'staff-1',
      'not a hex UID: only the case',
    );
  });
});
