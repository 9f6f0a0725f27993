import type { NodeAPI } from 'node-red';
import { findProfile, SHIPPED_PROFILES, summariseProfile } from '../lib/modbus/profiles';
import { listSerialPorts } from '../lib/modbus/serial-ports';
import { adminRoute } from './shared/admin-routes';

/** Editor helper of the bus node: the serial ports of the machine Node-RED runs on. */
export function registerModbusBusRoutes(RED: NodeAPI): void {
  adminRoute(RED, {
    method: 'get',
    path: '/ampflow-modbus-bus/serial-ports',
    permission: 'ampflow-modbus-bus.read',
    handle: async (_req, res) => res.json(await listSerialPorts()),
  });
}

/**
 * Editor helpers of the meter node: the profile list (with what is uncertain about each) and one
 * profile in full, to start a custom profile from.
 */
export function registerMeterRoutes(RED: NodeAPI): void {
  adminRoute(RED, {
    method: 'get',
    path: '/ampflow-meter/profiles',
    permission: 'ampflow-meter.read',
    handle: (_req, res) => res.json(SHIPPED_PROFILES.map(summariseProfile)),
  });
  adminRoute(RED, {
    method: 'get',
    path: '/ampflow-meter/profiles/:id',
    permission: 'ampflow-meter.read',
    handle: (req, res) => {
      const profile = findProfile(req.params.id ?? '');
      if (profile) res.json(profile);
      else res.status(404).json({ error: `no profile "${req.params.id}"` });
    },
  });
}
