import { existsSync } from 'node:fs';
import { CommandError } from './command-error';
import { FILE_TOKEN_TTL_MS, type FileExchange, type FirmwareSource } from './files';

/** The location a flow writes to have ampflow serve the file (or receive the upload) itself. */
export const AMPFLOW_LOCATION = 'ampflow';

/** What the command's preparation needs of the central system. */
export interface FileCommandHost {
  readonly files: FileExchange;
  /** `http(s)://<host the charger dialled>/<path>`, ending in `/`; throws a CommandError when there is none. */
  fileBaseUrl(chargePointId: string): string;
  readonly clock: { now(): number };
}

type Payload = Record<string, unknown>;

/**
 * A command whose location is `"ampflow"` with that location replaced by a URL of the central
 * system's own file exchange, and the fields only ampflow reads (`file`, `fileName`, `linkValidS`)
 * taken out; any other command as it came. UpdateFirmware (1.6 `location`, 2.0.1
 * `firmware.location`) and SignedUpdateFirmware get a download link of `file`; GetDiagnostics
 * (`location`) and GetLog (`log.remoteLocation`) an upload link.
 */
export function prepareFileCommand(
  host: FileCommandHost,
  chargePointId: string,
  action: string,
  payload: unknown,
): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const request = payload as Payload;
  const nested = (key: 'firmware' | 'log') =>
    typeof request[key] === 'object' && request[key] !== null ? (request[key] as Payload) : undefined;
  const firmware = nested('firmware');
  const log = nested('log');
  const asks =
    request.location === AMPFLOW_LOCATION ||
    firmware?.location === AMPFLOW_LOCATION ||
    log?.remoteLocation === AMPFLOW_LOCATION;
  if (!asks) return payload;
  const { file, fileName, linkValidS, ...rest } = request;
  const validMs = linkValidMs(action, linkValidS);
  const base = host.fileBaseUrl(chargePointId);
  switch (action) {
    case 'UpdateFirmware':
    case 'SignedUpdateFirmware': {
      const source = firmwareSource(action, file, fileName);
      if (firmware) {
        const at = Date.parse(String(firmware.retrieveDateTime ?? ''));
        const retrieveDateTime = Number.isFinite(at)
          ? firmware.retrieveDateTime
          : new Date(host.clock.now()).toISOString();
        const token = host.files.offerFirmware(chargePointId, source, after(host, at) + validMs);
        return {
          ...rest,
          firmware: { ...firmware, location: base + host.files.pathOf(token), retrieveDateTime },
        };
      }
      const at = Date.parse(String(request.retrieveDate ?? ''));
      const retrieveDate = Number.isFinite(at)
        ? request.retrieveDate
        : new Date(host.clock.now()).toISOString();
      const token = host.files.offerFirmware(chargePointId, source, after(host, at) + validMs);
      return { ...rest, location: base + host.files.pathOf(token), retrieveDate };
    }
    case 'GetDiagnostics': {
      const token = host.files.expectUpload(chargePointId, 'diagnostics', host.clock.now() + validMs);
      return { ...rest, location: base + host.files.pathOf(token) };
    }
    case 'GetLog': {
      const requestId = typeof request.requestId === 'number' ? request.requestId : undefined;
      const kind = request.logType === 'DiagnosticsLog' ? 'diagnostics' : 'log';
      const token = host.files.expectUpload(chargePointId, kind, host.clock.now() + validMs, requestId);
      return { ...rest, log: { ...log, remoteLocation: base + host.files.pathOf(token) } };
    }
    default:
      throw new CommandError(
        `${action}: location "${AMPFLOW_LOCATION}" is for UpdateFirmware, SignedUpdateFirmware, GetDiagnostics and GetLog`,
        'InvalidRequest',
      );
  }
}

/** The later of now and the retrieve date: a download scheduled for tomorrow still has its hour. */
function after(host: FileCommandHost, atMs: number): number {
  return Number.isFinite(atMs) ? Math.max(host.clock.now(), atMs) : host.clock.now();
}

function linkValidMs(action: string, value: unknown): number {
  if (value === undefined) return FILE_TOKEN_TTL_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 7 * 86400) {
    throw new CommandError(
      `${action}: linkValidS must be a number of seconds from 1 to 604800`,
      'InvalidRequest',
    );
  }
  return value * 1000;
}

function firmwareSource(action: string, file: unknown, fileName: unknown): FirmwareSource {
  const name = typeof fileName === 'string' && fileName.trim() ? fileName.trim() : undefined;
  if (typeof file === 'string' && file.trim()) {
    if (!existsSync(file)) {
      throw new CommandError(
        `${action}: the firmware file ${file} does not exist on this machine`,
        'InvalidRequest',
      );
    }
    return { path: file, ...(name ? { fileName: name } : {}) };
  }
  const content = Buffer.isBuffer(file)
    ? file
    : isSerializedBuffer(file)
      ? Buffer.from(file.data)
      : undefined;
  if (content) return { content, fileName: name ?? 'firmware.bin' };
  throw new CommandError(
    `${action} with location "${AMPFLOW_LOCATION}" needs payload.file: the firmware's path on the Node-RED host or its content (a Buffer)`,
    'InvalidRequest',
  );
}

function isSerializedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  );
}
