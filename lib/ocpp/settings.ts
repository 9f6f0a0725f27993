import { ConfigError, parseChoice, parseNumber, parsePort } from '../config-error';
import type { SubProtocol } from './admission';
import type { AuthorizationOptions, OneTransactionPerTag } from './authorization';
import { parseCdrConnectors } from './cdr-connectors';
import { type CentralSystemOptions, DEFAULT_OCPP_PORT } from './central-system';
import type { ChargePointOptions } from './connection';
import type { SecurityProfile, UnknownChargePointPolicy } from './handshake';
import type { IdTagEntry } from './id-tags';
import { PasswordBook } from './passwords';
import type { TlsSettings } from './transport';

/**
 * Every setting of a central system as a person types it, in the Node-RED editor or on the
 * `ampflow-cs` command line. Strings where a person types text; `parseSettings` checks them all
 * and names the field at fault.
 */
export interface CentralSystemSettings {
  host?: string;
  port?: string | number;
  path?: string;
  securityProfile?: string | number;
  tlsCertificate?: string;
  tlsPrivateKey?: string;
  tlsPassphrase?: string;
  tlsCa?: string;
  certificateOrganization?: string;
  /** `<identity> <password>` per line. */
  passwords?: string;
  unknownChargePoints?: string;
  /** The OCPP versions served, most preferred first, e.g. `ocpp1.6,ocpp2.0.1` (the default). */
  protocols?: string;
  chargePoints?: { id?: string; lenient?: boolean; pingIntervalS?: string | number }[];
  heartbeatIntervalS?: string | number;
  pendingRetryIntervalS?: string | number;
  pingIntervalS?: string | number;
  deadAfterHeartbeats?: string | number;
  callTimeoutS?: string | number;
  maxFrameKiB?: string | number;
  readConfigurationOnBoot?: boolean;
  authorizationPolicy?: string;
  fixedIdTag?: string;
  flowTimeoutS?: string | number;
  authorizationFallback?: string;
  caseInsensitiveIdTags?: boolean;
  byteOrderVariants?: boolean;
  /** '' (by the policy), every, listed or none; see AuthorizationOptions.oneTransactionPerTag. */
  oneTransactionPerTag?: string;
  /** From before oneTransactionPerTag: true means none. */
  allowConcurrentTx?: boolean;
  /** The configured id-tag list; replaces the stored list at start when not empty. */
  idTags?: IdTagEntry[];
  dataTransfer?: string;
  signCertificate?: string;
  /** The CDR's connector table: `<identity>[/<connector>], <plug type>, <AC|DC>[, <comment>]` per line. */
  cdrConnectors?: string;
}

/** The OCPP versions a central system may serve, most preferred first. */
export const PROTOCOL_CHOICES = ['ocpp1.6,ocpp2.0.1', 'ocpp2.0.1,ocpp1.6', 'ocpp1.6', 'ocpp2.0.1'] as const;

/**
 * Checks every setting; throws a ConfigError naming the first field at fault. With
 * `sharedServer`, the listener's host, port and TLS files do not apply (the shared server has its
 * own) and are not checked.
 */
export function parseSettings(
  settings: CentralSystemSettings,
  context: { sharedServer?: boolean } = {},
): CentralSystemOptions {
  if (context.sharedServer) {
    settings = { ...settings, host: '', port: '', tlsCertificate: '', tlsPrivateKey: '', tlsCa: '' };
  }
  const listener = parseListener(settings.host, settings.port);
  const securityProfile = Number(
    parseChoice('securityProfile', String(settings.securityProfile ?? ''), ['0', '1', '2', '3'], '0'),
  ) as SecurityProfile;
  const options: CentralSystemOptions = {
    ...listener,
    securityProfile,
    unknownChargePoints: parseChoice<UnknownChargePointPolicy>(
      'unknownChargePoints',
      settings.unknownChargePoints,
      ['reject', 'accept', 'pending'],
      'pending',
    ),
    protocols: parseChoice('protocols', settings.protocols, PROTOCOL_CHOICES, PROTOCOL_CHOICES[0])
      .split(',')
      .map((protocol) => protocol as SubProtocol),
    heartbeatIntervalS: parseNumber('heartbeatIntervalS', settings.heartbeatIntervalS, {
      fallback: 300,
      min: 10,
      max: 86400,
      integer: true,
      unit: 's',
    }),
    pendingRetryIntervalS: parseNumber('pendingRetryIntervalS', settings.pendingRetryIntervalS, {
      fallback: 60,
      min: 5,
      max: 86400,
      integer: true,
      unit: 's',
    }),
    pingIntervalS: parseNumber('pingIntervalS', settings.pingIntervalS, {
      fallback: 60,
      min: 0,
      max: 3600,
      integer: true,
      unit: 's',
    }),
    deadAfterHeartbeats: parseNumber('deadAfterHeartbeats', settings.deadAfterHeartbeats, {
      fallback: 3,
      min: 2,
      max: 100,
    }),
    callTimeoutS: parseNumber('callTimeoutS', settings.callTimeoutS, {
      fallback: 30,
      min: 1,
      max: 600,
      unit: 's',
    }),
    maxFrameBytes:
      1024 *
      parseNumber('maxFrameKiB', settings.maxFrameKiB, {
        fallback: 1024,
        min: 16,
        max: 65536,
        integer: true,
        unit: 'KiB',
      }),
    readConfigurationOnBoot: settings.readConfigurationOnBoot !== false,
    dataTransfer: parseChoice<'reject' | 'flow'>(
      'dataTransfer',
      settings.dataTransfer,
      ['reject', 'flow'],
      'reject',
    ),
    signCertificate: parseChoice<'reject' | 'flow'>(
      'signCertificate',
      settings.signCertificate,
      ['reject', 'flow'],
      'reject',
    ),
    authorization: parseAuthorization(settings),
  };
  if (settings.path?.trim()) options.path = parsePath(settings.path);
  if (securityProfile === 1 || securityProfile === 2) {
    options.passwords = PasswordBook.parse(settings.passwords ?? '');
    if (options.passwords.size === 0) {
      throw new ConfigError(
        'passwords',
        `security profile ${securityProfile} needs a password per charge point`,
      );
    }
  }
  if ((securityProfile === 2 || securityProfile === 3) && !context.sharedServer) {
    options.tls = parseTls(settings, securityProfile);
  }
  if (settings.certificateOrganization?.trim())
    options.certificateOrganization = settings.certificateOrganization.trim();
  const chargePoints = parseChargePoints(settings.chargePoints ?? []);
  if (Object.keys(chargePoints).length > 0) options.chargePoints = chargePoints;
  if (settings.idTags && settings.idTags.length > 0) options.idTags = settings.idTags;
  const cdrConnectors = parseCdrConnectors(settings.cdrConnectors ?? '');
  if (Object.keys(cdrConnectors).length > 0) options.cdrConnectors = cdrConnectors;
  return options;
}

function parseAuthorization(settings: CentralSystemSettings): Partial<AuthorizationOptions> {
  const authorization: Partial<AuthorizationOptions> = {
    policy: parseChoice<AuthorizationOptions['policy']>(
      'authorizationPolicy',
      settings.authorizationPolicy,
      ['acceptAll', 'localList', 'flow'],
      'localList',
    ),
    fallback: parseChoice<AuthorizationOptions['fallback']>(
      'authorizationFallback',
      settings.authorizationFallback,
      ['acceptAll', 'localList', 'reject'],
      'localList',
    ),
    flowTimeoutMs:
      1000 *
      parseNumber('flowTimeoutS', settings.flowTimeoutS, { fallback: 5, min: 0.1, max: 120, unit: 's' }),
    matching: {
      caseInsensitive: settings.caseInsensitiveIdTags !== false,
      byteOrderVariants: settings.byteOrderVariants !== false,
    },
  };
  const oneTransactionPerTag = settings.oneTransactionPerTag
    ? parseChoice<OneTransactionPerTag>(
        'oneTransactionPerTag',
        settings.oneTransactionPerTag,
        ['every', 'listed', 'none'],
        'every',
      )
    : settings.allowConcurrentTx === true
      ? 'none'
      : undefined;
  if (oneTransactionPerTag) authorization.oneTransactionPerTag = oneTransactionPerTag;
  const fixedIdTag = settings.fixedIdTag?.trim();
  if (fixedIdTag) {
    if (fixedIdTag.length > 20) throw new ConfigError('fixedIdTag', 'an id tag has at most 20 characters');
    authorization.fixedIdTag = fixedIdTag;
  }
  return authorization;
}

function parsePath(path: string): string {
  const trimmed = path.trim();
  if (!/^\/?[A-Za-z0-9._~\-/]*$/.test(trimmed)) {
    throw new ConfigError('path', `"${trimmed}" is not a URL path such as /ocpp`);
  }
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function parseTls(settings: CentralSystemSettings, profile: 2 | 3): TlsSettings {
  if (!settings.tlsCertificate?.trim()) {
    throw new ConfigError(
      'tlsCertificate',
      `security profile ${profile} needs the central system's certificate`,
    );
  }
  if (!settings.tlsPrivateKey?.trim()) {
    throw new ConfigError('tlsPrivateKey', `security profile ${profile} needs the certificate's private key`);
  }
  const tls: TlsSettings = { certificate: settings.tlsCertificate, privateKey: settings.tlsPrivateKey };
  if (settings.tlsPassphrase) tls.passphrase = settings.tlsPassphrase;
  if (settings.tlsCa?.trim()) tls.ca = settings.tlsCa;
  return tls;
}

function parseChargePoints(list: NonNullable<CentralSystemSettings['chargePoints']>) {
  const chargePoints: Record<string, Partial<ChargePointOptions>> = {};
  list.forEach((entry, index) => {
    const id = entry.id?.trim() ?? '';
    const field = `chargePoints[${index + 1}]`;
    if (!id) throw new ConfigError(field, 'has no charge point identity');
    if (chargePoints[id]) throw new ConfigError(field, `charge point ${id} is listed twice`);
    const options: Partial<ChargePointOptions> = { lenient: entry.lenient === true };
    if (entry.pingIntervalS !== undefined && entry.pingIntervalS !== '') {
      options.pingIntervalS = parseNumber(`${field}.pingIntervalS`, entry.pingIntervalS, {
        fallback: 60,
        min: 0,
        max: 3600,
        integer: true,
        unit: 's',
      });
    }
    chargePoints[id] = options;
  });
  return chargePoints;
}

/** The own listener's host and port as typed; throws a ConfigError naming the field. */
export function parseListener(host: unknown, port: unknown): Pick<CentralSystemOptions, 'host' | 'port'> {
  const portNumber = parsePort('port', port, DEFAULT_OCPP_PORT);
  if (host !== undefined && host !== null && typeof host !== 'string') {
    throw new ConfigError('host', 'must be a host name or an IP address');
  }
  const hostName = host?.trim() ?? '';
  if (/[\s/]/.test(hostName)) {
    throw new ConfigError('host', `"${hostName}" is not a host name or an IP address`);
  }
  return hostName ? { host: hostName, port: portNumber } : { port: portNumber };
}
