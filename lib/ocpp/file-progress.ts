import type { ChargePointMessage } from '../contracts';
import type { FileUpload } from './files';

/**
 * What each charger last said of its file transfers, for the Chargers sidebar: the status of its
 * firmware update (FirmwareStatusNotification, SignedFirmwareStatusNotification, a 2.0.1 station's
 * FirmwareStatusNotification), its diagnostics upload (DiagnosticsStatusNotification), its log
 * upload (LogStatusNotification) and the last file it uploaded to the central system.
 */

export type TransferKind = 'firmware' | 'diagnostics' | 'log';

export interface TransferStatus {
  status: string;
  at: string;
  requestId?: number;
}

export interface ChargerFiles {
  firmware?: TransferStatus;
  diagnostics?: TransferStatus;
  log?: TransferStatus;
  /** The last file the charger uploaded to the central system. */
  uploaded?: { kind: string; fileName: string; size: number; at: string; path?: string };
}

const KINDS: Record<string, TransferKind> = {
  FirmwareStatusNotification: 'firmware',
  SignedFirmwareStatusNotification: 'firmware',
  DiagnosticsStatusNotification: 'diagnostics',
  LogStatusNotification: 'log',
};

/** What the progress watches: the central system's answered messages and its uploads. */
export interface FileProgressSource {
  on(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
  on(event: 'file', listener: (upload: FileUpload) => void): unknown;
  off(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
  off(event: 'file', listener: (upload: FileUpload) => void): unknown;
}

export class FileProgress {
  private readonly chargers = new Map<string, ChargerFiles>();
  private readonly onMessage = (message: ChargePointMessage) => {
    const kind = KINDS[message.action];
    if (!kind) return;
    const request = (message.request ?? {}) as { status?: unknown; requestId?: unknown };
    // A 2.0.1 station's requestId may be only in its message as it came.
    const raw = (message.ocpp?.request ?? {}) as { requestId?: unknown };
    const requestId = typeof request.requestId === 'number' ? request.requestId : raw.requestId;
    if (typeof request.status !== 'string') return;
    this.of(message.chargePointId)[kind] = {
      status: request.status,
      at: message.receivedAt,
      ...(typeof requestId === 'number' ? { requestId } : {}),
    };
  };
  private readonly onFile = (upload: FileUpload) => {
    this.of(upload.chargePointId).uploaded = {
      kind: upload.kind,
      fileName: upload.fileName,
      size: upload.size,
      at: upload.receivedAt,
      ...(upload.path ? { path: upload.path } : {}),
    };
  };

  constructor(private readonly source: FileProgressSource) {
    source.on('message', this.onMessage);
    source.on('file', this.onFile);
  }

  /** The charger's transfers as far as told; undefined when it has reported none. */
  of(chargePointId: string): ChargerFiles;
  of(chargePointId: string, readOnly: true): ChargerFiles | undefined;
  of(chargePointId: string, readOnly?: true): ChargerFiles | undefined {
    let files = this.chargers.get(chargePointId);
    if (!files && !readOnly) {
      files = {};
      this.chargers.set(chargePointId, files);
    }
    return files;
  }

  stop(): void {
    this.source.off('message', this.onMessage);
    this.source.off('file', this.onFile);
  }
}

const shared = new WeakMap<FileProgressSource, FileProgress>();

/** The progress of a central system's chargers: one instance per central system, made by whoever asks first. */
export function fileProgressOf(cs: FileProgressSource): FileProgress {
  let progress = shared.get(cs);
  if (!progress) {
    progress = new FileProgress(cs);
    shared.set(cs, progress);
  }
  return progress;
}
