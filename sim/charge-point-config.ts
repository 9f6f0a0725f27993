import type { OcppRequest } from '../lib/ocpp/messages';
import { type CommandHost, done } from './charge-point-commands';
import type { ConfigurationStore } from './configuration';
import type { CommandOutcome } from './types';

/** ChangeConfiguration (5.3): the store decides; a few keys take effect at once. */
export function changeConfiguration(
  host: CommandHost,
  request: OcppRequest<'ChangeConfiguration'>,
): CommandOutcome<'ChangeConfiguration'> {
  const name = host.configuration.canonicalName(request.key);
  if (name === 'SecurityProfile') return changeSecurityProfile(host, request.value);
  const status = host.configuration.change(request.key, request.value);
  if (status !== 'Accepted' && status !== 'RebootRequired') return done({ status });
  switch (name) {
    case 'HeartbeatInterval':
      host.rearmHeartbeat();
      break;
    case 'ClockAlignedDataInterval':
      host.restartAlignedTimer();
      break;
    case 'WebSocketPingInterval':
    case 'MessageTimeout':
      host.applyTimings();
      break;
    case 'ConnectorPhaseRotation':
      // RebootRequired: the meter sees the new rotation after the next restart.
      break;
    case 'maxIntensitySocket':
      host.applyLocalCap();
      host.recompute();
      break;
    case 'AuthorizationKey':
      // A01: store the password, log it (without the key, A01.FR.12), reconnect with it.
      host.securityLog('ReconfigurationOfSecurityParameters', 'AuthorizationKey changed');
      return done({ status }, () => void host.reconnectNow());
    default:
  }
  return done({ status });
}

/** Security whitepaper A05: only upwards, and only with the prerequisites of the new profile. */
function changeSecurityProfile(host: CommandHost, value: string): CommandOutcome<'ChangeConfiguration'> {
  const { configuration } = host;
  const current = configuration.int('SecurityProfile', 0);
  const next = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  const reject = done<'ChangeConfiguration'>({ status: 'Rejected' });
  if (!(next > current && next <= 3)) return reject; // A05.FR.01
  if ((next === 1 || next === 2) && !configuration.get('AuthorizationKey')) return reject; // A05.FR.02
  const hasRoot = host.certificates.size > 0 || !!host.tls?.ca;
  if (next >= 2 && !hasRoot) return reject; // A05.FR.03
  if (next === 3 && !host.hasClientCertificate() && !host.tls?.cert) return reject; // A05.FR.04
  // The simulator keeps its URL; it cannot move a ws:// connection to TLS by itself.
  if (next >= 2 && !host.endpoint.startsWith('wss')) return reject;
  configuration.setInternal('SecurityProfile', String(next));
  host.securityLog('ReconfigurationOfSecurityParameters', `SecurityProfile ${current} -> ${next}`);
  return done({ status: 'Accepted' }, () => void host.reconnectNow()); // A05.FR.06/07
}

/** A feature profile SupportedFeatureProfiles announces (case-insensitive). */
export function supportsFeature(configuration: ConfigurationStore, profile: string): boolean {
  return configuration.csl('SupportedFeatureProfiles').some((p) => p.toLowerCase() === profile.toLowerCase());
}

/** A URL whose scheme SupportedFileTransferProtocols lists. */
export function supportsLocation(configuration: ConfigurationStore, location: string): boolean {
  let scheme: string;
  try {
    scheme = new URL(location).protocol.replace(/:$/, '').toUpperCase();
  } catch {
    return false;
  }
  return configuration.csl('SupportedFileTransferProtocols').some((p) => p.toUpperCase() === scheme);
}
