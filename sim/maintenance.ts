import type { Clock, TimerHandle } from '../lib/clock';
import type {
  DiagnosticsStatusNotificationRequest,
  FirmwareStatusNotificationRequest,
  GetLogRequest,
  GetLogResponse,
  LogStatusNotificationRequest,
  SignedFirmwareStatusNotificationRequest,
  SignedUpdateFirmwareRequest,
  UpdateFirmwareRequest,
} from '../lib/ocpp/messages';

/**
 * The charge point's maintenance jobs, each a sequence of status notifications on the Clock:
 * diagnostics upload (5.9), firmware update (5.19), and the security whitepaper's log upload (N01)
 * and signed firmware update (L01). Without `transfer` nothing is really transferred: a transfer
 * takes `fileTransferS` and succeeds when the location's protocol is one of
 * SupportedFileTransferProtocols, else it fails. With `transfer`, an http(s) location is really
 * downloaded from or uploaded to, and the transfer's outcome is the status.
 */

/** Real transfers over HTTP (file-transfer.ts); a failure rejects. */
export interface FileTransfer {
  download(url: string): Promise<Buffer>;
  upload(url: string, fileName: string, content: Buffer, kind: 'diagnostics' | 'log'): Promise<void>;
}

export type DiagnosticsStatus = DiagnosticsStatusNotificationRequest['status'];
export type FirmwareStatus = FirmwareStatusNotificationRequest['status'];
export type SignedFirmwareStatus = SignedFirmwareStatusNotificationRequest['status'];
export type LogStatus = LogStatusNotificationRequest['status'];

export interface MaintenanceHost {
  readonly clock: Clock;
  readonly identity: string;
  /** Simulated duration of an upload or download. */
  readonly fileTransferS: number;
  /** Simulated duration of a firmware installation. */
  readonly firmwareInstallS: number;
  /** Whether `location`'s scheme is in SupportedFileTransferProtocols. */
  supportsLocation(location: string): boolean;
  hasTransactions(): boolean;
  /** Makes idle connectors Unavailable while an installation waits (5.19, L01.FR.07). */
  holdForFirmware(hold: boolean): void;
  diagnosticsStatus(status: DiagnosticsStatus): void;
  firmwareStatus(status: FirmwareStatus): void;
  signedFirmwareStatus(status: SignedFirmwareStatus, requestId?: number): void;
  logStatus(status: LogStatus, requestId?: number): void;
  securityEvent(type: string, techInfo?: string): void;
  installFirmware(version: string): void;
  reboot(reason: string): void;
  /** Really transfer http(s) locations. */
  readonly transfer?: FileTransfer;
}

interface FirmwareJob {
  signed: boolean;
  requestId?: number;
  location: string;
  installAtMs?: number;
  signature?: string;
  /** Waiting for transactions to end before installing. */
  waitingForIdle: boolean;
  /** Rebooted into the new firmware; Installed follows the next accepted boot. */
  rebooting: boolean;
  timer?: TimerHandle;
}

export class Maintenance {
  private diagnosticsUploading = false;
  private diagnosticsTimer: TimerHandle | undefined;
  private firmware: FirmwareJob | undefined;
  private lastFirmwareStatus: FirmwareStatus | undefined;
  private lastSignedStatus: { status: SignedFirmwareStatus; requestId?: number } | undefined;
  private log: { requestId: number; timer?: TimerHandle } | undefined;
  /** The last firmware really downloaded (with `transfer`). */
  lastDownload: Buffer | undefined;

  constructor(private readonly host: MaintenanceHost) {}

  /** The file name GetDiagnostics answers with. */
  diagnosticsFileName(): string {
    const stamp = new Date(this.clock.now()).toISOString().replace(/[-:.]/g, '');
    return `diagnostics-${this.host.identity}-${stamp}.log`.slice(0, 255);
  }

  /** Uploads diagnostics (after the GetDiagnostics answer went out). */
  startDiagnostics(location: string, fileName = this.diagnosticsFileName()): void {
    const { clock } = this.host;
    this.clock.clearTimeout(this.diagnosticsTimer);
    this.diagnosticsUploading = true;
    this.host.diagnosticsStatus('Uploading');
    const transfer = this.realTransfer(location);
    if (transfer) {
      const content = Buffer.from(
        `diagnostics of ${this.host.identity} at ${new Date(clock.now()).toISOString()}\n`,
      );
      transfer.upload(location, fileName, content, 'diagnostics').then(
        () => this.diagnosticsDone('Uploaded'),
        () => this.diagnosticsDone('UploadFailed'),
      );
      return;
    }
    this.diagnosticsTimer = clock.setTimeout(() => {
      this.diagnosticsTimer = undefined;
      this.diagnosticsUploading = false;
      this.host.diagnosticsStatus(this.host.supportsLocation(location) ? 'Uploaded' : 'UploadFailed');
    }, this.host.fileTransferS * 1000);
  }

  private diagnosticsDone(status: DiagnosticsStatus): void {
    this.diagnosticsUploading = false;
    this.host.diagnosticsStatus(status);
  }

  /** The transfer to use for `location`: only http(s) locations, and only with one. */
  private realTransfer(location: string): FileTransfer | undefined {
    return this.host.transfer && /^https?:\/\//i.test(location) && this.host.supportsLocation(location)
      ? this.host.transfer
      : undefined;
  }

  /** For a triggered DiagnosticsStatusNotification: Idle unless an upload runs (4.4). */
  get diagnosticsState(): DiagnosticsStatus {
    return this.diagnosticsUploading ? 'Uploading' : 'Idle';
  }

  /** UpdateFirmware (5.19): download after retrieveDate, install once idle, reboot, Installed. */
  startFirmware(request: UpdateFirmwareRequest): void {
    this.cancelFirmware();
    this.firmware = { signed: false, location: request.location, waitingForIdle: false, rebooting: false };
    this.scheduleDownload(this.firmware, Date.parse(request.retrieveDate));
  }

  /** Whether a firmware update is under way (a new one cancels it: AcceptedCanceled, L01.FR.26). */
  get firmwareInProgress(): boolean {
    return !!this.firmware;
  }

  /** SignedUpdateFirmware (L01) after the signing certificate was verified. */
  startSignedFirmware(request: SignedUpdateFirmwareRequest): void {
    this.cancelFirmware();
    const job: FirmwareJob = {
      signed: true,
      requestId: request.requestId,
      location: request.firmware.location,
      signature: request.firmware.signature,
      waitingForIdle: false,
      rebooting: false,
      ...(request.firmware.installDateTime
        ? { installAtMs: Date.parse(request.firmware.installDateTime) }
        : {}),
    };
    this.firmware = job;
    const retrieveMs = Date.parse(request.firmware.retrieveDateTime);
    // L01.FR.13: a download that waits for its time is DownloadScheduled.
    if (retrieveMs > this.host.clock.now()) this.signedStatus(job, 'DownloadScheduled');
    this.scheduleDownload(job, retrieveMs);
  }

  /** For a triggered FirmwareStatusNotification: the job's last status, else Idle (4.5). */
  get firmwareState(): FirmwareStatus {
    return this.firmware && this.lastFirmwareStatus ? this.lastFirmwareStatus : 'Idle';
  }

  /** For ExtendedTriggerMessage(FirmwareStatusNotification): L01.FR.28/29. */
  get signedFirmwareState(): { status: SignedFirmwareStatus; requestId?: number } {
    const last = this.lastSignedStatus;
    if (!last || last.status === 'Installed') return { status: 'Idle' };
    return last;
  }

  /** A transaction ended: an installation waiting for idle may go ahead. */
  transactionsEnded(): void {
    const job = this.firmware;
    if (job?.waitingForIdle && !this.host.hasTransactions()) {
      job.waitingForIdle = false;
      this.install(job);
    }
  }

  /** After an accepted BootNotification: a firmware that rebooted to install reports Installed. */
  accepted(): void {
    const job = this.firmware;
    if (!job?.rebooting) return;
    this.firmware = undefined;
    this.host.holdForFirmware(false);
    if (job.signed) this.signedStatus(job, 'Installed');
    else this.firmwareStatusOf('Installed');
  }

  /** The GetLog answer (N01.FR.01): AcceptedCanceled when it cancels an upload in progress (N01.FR.11). */
  logAnswer(request: GetLogRequest): GetLogResponse {
    const filename = `${request.logType}-${this.host.identity}-${request.requestId}.log`.slice(0, 255);
    return { status: this.log ? 'AcceptedCanceled' : 'Accepted', filename };
  }

  /** Uploads the log (after the GetLog answer went out). */
  startLog(request: GetLogRequest): void {
    if (this.log) this.clock.clearTimeout(this.log.timer);
    const requestId = request.requestId;
    this.host.logStatus('Uploading', requestId);
    const transfer = this.realTransfer(request.log.remoteLocation);
    if (transfer) {
      const job: { requestId: number } = { requestId };
      const fileName = this.logAnswer(request).filename ?? 'log.txt';
      this.log = job;
      const content = Buffer.from(`${request.logType} of ${this.host.identity}, request ${requestId}\n`);
      const end = (status: LogStatus) => {
        if (this.log === job) this.log = undefined;
        this.host.logStatus(status, requestId);
      };
      transfer.upload(request.log.remoteLocation, fileName, content, 'log').then(
        () => end('Uploaded'),
        () => end('UploadFailure'),
      );
      return;
    }
    const timer = this.host.clock.setTimeout(() => {
      this.log = undefined;
      // N01.FR.09/10.
      this.host.logStatus(
        this.host.supportsLocation(request.log.remoteLocation) ? 'Uploaded' : 'UploadFailure',
        requestId,
      );
    }, this.host.fileTransferS * 1000);
    this.log = { requestId, timer };
  }

  /** For ExtendedTriggerMessage(LogStatusNotification): Uploading with its requestId, else Idle (N01.FR.12). */
  get logState(): { status: LogStatus; requestId?: number } {
    return this.log ? { status: 'Uploading', requestId: this.log.requestId } : { status: 'Idle' };
  }

  /** Stops every job's timer (the charge point is switched off). */
  stop(): void {
    this.clock.clearTimeout(this.diagnosticsTimer);
    if (this.log) this.clock.clearTimeout(this.log.timer);
    this.cancelFirmware();
  }

  private get clock(): Clock {
    return this.host.clock;
  }

  private cancelFirmware(): boolean {
    const job = this.firmware;
    if (!job) return false;
    this.clock.clearTimeout(job.timer);
    this.firmware = undefined;
    this.host.holdForFirmware(false);
    return true;
  }

  private scheduleDownload(job: FirmwareJob, retrieveMs: number): void {
    const delayMs = Number.isFinite(retrieveMs) ? Math.max(0, retrieveMs - this.clock.now()) : 0;
    job.timer = this.clock.setTimeout(() => this.download(job), delayMs);
  }

  private download(job: FirmwareJob): void {
    if (this.firmware !== job) return;
    this.report(job, 'Downloading');
    const transfer = this.realTransfer(job.location);
    if (transfer) {
      transfer.download(job.location).then(
        (content) => {
          this.lastDownload = content;
          this.downloaded(job, true);
        },
        () => this.downloaded(job, false),
      );
      return;
    }
    job.timer = this.clock.setTimeout(
      () => this.downloaded(job, this.host.supportsLocation(job.location)),
      this.host.fileTransferS * 1000,
    );
  }

  private downloaded(job: FirmwareJob, ok: boolean): void {
    if (this.firmware !== job) return;
    if (!ok) {
      this.report(job, 'DownloadFailed');
      this.firmware = undefined;
      return;
    }
    this.report(job, 'Downloaded');
    if (job.signed) {
      // The simulator cannot check a signature over a file it never downloads; it accepts any
      // non-empty base64 signature and treats anything else as invalid (L01.FR.03/04).
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(job.signature ?? '')) {
        this.signedStatus(job, 'InvalidSignature');
        this.host.securityEvent('InvalidFirmwareSignature', `requestId ${job.requestId}`);
        this.firmware = undefined;
        return;
      }
      this.signedStatus(job, 'SignatureVerified');
      if (job.installAtMs !== undefined && job.installAtMs > this.clock.now()) {
        // L01.FR.16.
        this.signedStatus(job, 'InstallScheduled');
        job.timer = this.clock.setTimeout(() => this.install(job), job.installAtMs - this.clock.now());
        return;
      }
    }
    this.install(job);
  }

  private install(job: FirmwareJob): void {
    if (this.firmware !== job) return;
    if (this.host.hasTransactions()) {
      // "RECOMMENDED to wait until Charging Session has ended ... set connectors that are not in use to UNAVAILABLE" (5.19).
      job.waitingForIdle = true;
      this.host.holdForFirmware(true);
      return;
    }
    this.host.holdForFirmware(true);
    this.report(job, 'Installing');
    job.timer = this.clock.setTimeout(() => {
      if (this.firmware !== job) return;
      this.host.installFirmware(versionFrom(job.location));
      if (job.signed) this.signedStatus(job, 'InstallRebooting');
      job.rebooting = true;
      this.host.reboot('firmware installation');
    }, this.host.firmwareInstallS * 1000);
  }

  private report(job: FirmwareJob, status: FirmwareStatus & SignedFirmwareStatus): void {
    if (job.signed) this.signedStatus(job, status);
    else this.firmwareStatusOf(status);
  }

  private firmwareStatusOf(status: FirmwareStatus): void {
    this.lastFirmwareStatus = status;
    this.host.firmwareStatus(status);
  }

  private signedStatus(job: FirmwareJob, status: SignedFirmwareStatus): void {
    this.lastSignedStatus = { status, ...(job.requestId === undefined ? {} : { requestId: job.requestId }) };
    this.host.signedFirmwareStatus(status, job.requestId);
  }
}

/** The version a firmware file announces: its file name without extension (at most 50 characters). */
function versionFrom(location: string): string {
  let file = location;
  try {
    file = new URL(location).pathname;
  } catch {
    // not a URL: use it as it is
  }
  const name = file.split('/').filter(Boolean).pop() ?? 'firmware';
  return name.replace(/\.[a-z0-9]+$/i, '').slice(0, 50) || 'firmware';
}
