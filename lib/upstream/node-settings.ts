import { parseNumber } from '../config-error';
import { DECIDED_ACTIONS, parseUpstreamSettings, UPSTREAM_DEFAULTS, type UpstreamSettings } from './settings';

/** The central-system node's upstream fields, as the editor saves them (and its credentials). */
export interface UpstreamNodeFields {
  upstreamUrl?: string;
  upstreamTlsCa?: string;
  upstreamTlsCertificate?: string;
  upstreamDecides?: 'upstream' | 'local';
  /** How long a charger's request waits for the backend's decision, in seconds (empty: 8). */
  upstreamDecideWithinS?: string | number;
  upstreamLocalTags?: boolean;
  upstreamSmartCharging?: string;
  upstreamRefuse?: string;
  upstreamProtectedKeys?: string;
  upstreamReassertKeys?: string;
  upstreamIdTagCase?: string;
  upstreamIdTagByteOrder?: string;
}

export interface UpstreamNodeCredentials {
  upstreamPassword?: string;
  upstreamTlsPrivateKey?: string;
  /** The backend's registration list, `identity,password[,certificate file]` per line. */
  upstreamRegistrations?: string;
}

/**
 * The decision wait's limits in the node: at least 1 s (a backend on the internet needs that), at
 * most 60 s; the default is the upstream settings' (8 s).
 */
export const DECIDE_WITHIN_S = {
  fallback: UPSTREAM_DEFAULTS.decideWithinMs / 1000,
  min: 1,
  max: 60,
} as const;

/** The upstream settings of a central-system node; errors name the field. */
export function upstreamSettingsOfNode(
  fields: UpstreamNodeFields,
  credentials: UpstreamNodeCredentials = {},
): UpstreamSettings {
  const decider = fields.upstreamDecides === 'local' ? 'local' : 'upstream';
  const decideWithinS = parseNumber('upstreamDecideWithinS', fields.upstreamDecideWithinS, {
    ...DECIDE_WITHIN_S,
    unit: 's',
  });
  return parseUpstreamSettings({
    url: fields.upstreamUrl,
    password: credentials.upstreamPassword,
    registrations: credentials.upstreamRegistrations,
    tlsCa: fields.upstreamTlsCa,
    tlsCertificate: fields.upstreamTlsCertificate,
    tlsPrivateKey: credentials.upstreamTlsPrivateKey,
    decide: Object.fromEntries(DECIDED_ACTIONS.map((action) => [action, decider])),
    decideWithinMs: Math.round(decideWithinS * 1000),
    refuse: fields.upstreamRefuse ?? undefined,
    protectedKeys: fields.upstreamProtectedKeys ?? undefined,
    reassertKeys: fields.upstreamReassertKeys ?? undefined,
    smartCharging: fields.upstreamSmartCharging,
    localTags: fields.upstreamLocalTags ? 'listed' : 'none',
    idTagCase: fields.upstreamIdTagCase,
    idTagByteOrder: fields.upstreamIdTagByteOrder,
  });
}
