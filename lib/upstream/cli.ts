import { readFileSync } from 'node:fs';
import { ConfigError, parseNumber } from '../config-error';
import type { CliExtension } from '../ocpp/cli';
import { DECIDE_WITHIN_S } from './node-settings';
import { UpstreamProxy } from './proxy';
import { parseUpstreamSettings } from './settings';

/**
 * `ampflow-cs --upstream <url>`: the same proxy as the central-system node's "operator's backend",
 * without Node-RED, for commissioning (does the backend see the charger through ampflow?).
 */
export const upstreamCli: CliExtension = {
  options: {
    upstream: { type: 'string' },
    'upstream-password': { type: 'string' },
    'upstream-ca': { type: 'string' },
    'upstream-cert': { type: 'string' },
    'upstream-key': { type: 'string' },
    'upstream-profiles': { type: 'string' },
    'upstream-registrations': { type: 'string' },
    'upstream-decide-within': { type: 'string' },
  },
  help: `  --upstream <url>          keep the operator's backend: every charger is passed through to it as
                            itself, e.g. wss://backend.example/ocpp/{identity}
  --upstream-password <file>  the chargers' password at the backend (security profiles 1 and 2)
  --upstream-ca <file>      the backend's CA (wss://); --upstream-cert/--upstream-key: profile 3
  --upstream-registrations <file>
                            the backend's registration list (CSV): identity,password[,certificate
                            file] per line; chargers not listed use --upstream-password/-cert
  --upstream-decide-within <s>
                            how long a charger waits for the backend's decision (1 to 60, 8)
  --upstream-profiles forward|refuse|compose
                            the backend's SetChargingProfile/ClearChargingProfile: passed to the
                            charger, which answers (forward, the default), or refused; compose
                            needs a load manager, which ampflow-cs has not: it passes them on too`,
  attach(cs, values, log) {
    const url = values.upstream;
    if (typeof url !== 'string') return;
    let settings: ReturnType<typeof parseUpstreamSettings>;
    try {
      settings = parseUpstreamSettings({
        url,
        ...(typeof values['upstream-password'] === 'string'
          ? { password: readPassword(values['upstream-password']) }
          : {}),
        ...(typeof values['upstream-registrations'] === 'string'
          ? { registrations: readText(values['upstream-registrations'], '--upstream-registrations') }
          : {}),
        ...(typeof values['upstream-decide-within'] === 'string'
          ? { decideWithinMs: decideWithinMs(values['upstream-decide-within']) }
          : {}),
        tlsCa: values['upstream-ca'],
        tlsCertificate: values['upstream-cert'],
        tlsPrivateKey: values['upstream-key'],
        smartCharging: values['upstream-profiles'] ?? 'forward',
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const option = OPTION_OF[err.field] ?? err.field;
      throw new ConfigError(option, err.message.replace(/^[^:]+: /, ''));
    }
    const proxy = new UpstreamProxy(cs, settings, { log });
    proxy.on('link', ({ chargePointId, state }: { chargePointId: string; state: string }) => {
      if (state === 'open') log.info(`${chargePointId} is connected to its upstream backend`);
    });
    log.info(`passing every charger through to ${url}`);
  },
};

const OPTION_OF: Record<string, string> = {
  'upstream.url': '--upstream',
  'upstream.tlsCa': '--upstream-ca',
  'upstream.tlsCertificate': '--upstream-cert',
  'upstream.tlsPrivateKey': '--upstream-key',
  'upstream.smartCharging': '--upstream-profiles',
  'upstream.registrations': '--upstream-registrations',
};

function readPassword(path: string): string {
  return readText(path, '--upstream-password').trim();
}

function decideWithinMs(seconds: string): number {
  return Math.round(
    parseNumber('--upstream-decide-within', seconds, { ...DECIDE_WITHIN_S, unit: 's' }) * 1000,
  );
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      option,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
