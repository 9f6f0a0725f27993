import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error';
import type { CliExtension } from '../ocpp/cli';
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
  },
  help: `  --upstream <url>          keep the operator's backend: every charger is passed through to it as
                            itself, e.g. wss://backend.example/ocpp/{identity}
  --upstream-password <file>  the chargers' password at the backend (security profiles 1 and 2)
  --upstream-ca <file>      the backend's CA (wss://); --upstream-cert/--upstream-key: profile 3
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
};

function readPassword(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      '--upstream-password',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
