import type { NodeAPI } from 'node-red';
import { findProfile, SHIPPED_PROFILES, summariseProfile } from '../lib/modbus/profiles';
import { listSerialPorts } from '../lib/modbus/serial-ports';

interface Request {
  params: Record<string, string>;
}
interface Response {
  status(code: number): Response;
  json(body: unknown): void;
}

/** Editor helper of the bus node: the serial ports of the machine Node-RED runs on. */
export function registerModbusBusRoutes(RED: NodeAPI): void {
  const read = RED.auth.needsPermission('ampflow-modbus-bus.read');
  RED.httpAdmin.get('/ampflow-modbus-bus/serial-ports', read, (_req: Request, res: Response) => {
    listSerialPorts()
      .then((ports) => res.json(ports))
      .catch((err: Error) => res.status(500).json({ error: err.message }));
  });
}

/**
 * Editor helpers of the meter node: the profile list (with what is uncertain about each) and one
 * profile in full, to start a custom profile from.
 */
export function registerMeterRoutes(RED: NodeAPI): void {
  const read = RED.auth.needsPermission('ampflow-meter.read');
  RED.httpAdmin.get('/ampflow-meter/profiles', read, (_req: Request, res: Response) => {
    res.json(SHIPPED_PROFILES.map(summariseProfile));
  });
  RED.httpAdmin.get('/ampflow-meter/profiles/:id', read, (req: Request, res: Response) => {
    const profile = findProfile(req.params.id ?? '');
    if (profile) res.json(profile);
    else res.status(404).json({ error: `no profile "${req.params.id}"` });
  });
}
