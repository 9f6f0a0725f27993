import type { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { BootNotificationResponse, OcppRequest } from '../lib/ocpp/messages';
import type { ConfigurationStore } from './configuration';
import type { ChargePointEvents, RegistrationStatus } from './types';

const DEFAULT_BOOT_RETRY_S = 60;

/** What registration and heartbeats need from the link (sim/link.ts). */
export interface RegistrationHost {
  readonly clock: Clock;
  readonly configuration: ConfigurationStore;
  readonly log: Logger;
  readonly identity: string;
  /** The current connection (a boot answered on an older one is dropped). */
  connection(): unknown;
  isOnline(): boolean;
  bootPayload(): { payload: OcppRequest<'BootNotification'>; deviates: boolean };
  callBoot(payload: OcppRequest<'BootNotification'>, deviates: boolean): Promise<BootNotificationResponse>;
  callHeartbeat(triggered: boolean): Promise<unknown>;
  /** Settles connect()'s promise. */
  settle(outcome: BootNotificationResponse | Error): void;
  /** The `boot` event. */
  booted(response: BootNotificationResponse): void;
  /** After BootNotification Accepted (before the heartbeat starts). */
  accepted(): void;
}

/**
 * The charge point's registration (OCPP 1.6 4.2): BootNotification, its retries on the Clock, the
 * standing status, and the heartbeat that runs while accepted (4.6, 9.1.10).
 */
export class LinkRegistration {
  /** The status of the last BootNotification answer; undefined before the first one and after a reboot. */
  status: RegistrationStatus | undefined;
  /** The last BootNotification answer. */
  last: BootNotificationResponse | undefined;
  /** Whether the next connection registers with BootNotification (else it merely resumes). */
  needed = true;
  private bootTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;

  constructor(private readonly host: RegistrationHost) {}

  async sendBoot(): Promise<void> {
    const { host } = this;
    const client = host.connection();
    const { payload, deviates } = host.bootPayload();
    let response: BootNotificationResponse;
    try {
      response = await host.callBoot(payload, deviates);
    } catch (err) {
      if (host.connection() !== client) return;
      const error = err as Error;
      host.log.warn(`${host.identity}: BootNotification failed: ${error.message}`);
      host.settle(error);
      this.scheduleBoot(DEFAULT_BOOT_RETRY_S);
      return;
    }
    if (host.connection() !== client) return;
    this.last = response;
    this.status = response.status;
    host.log.info(`${host.identity}: BootNotification ${response.status} (interval ${response.interval} s)`);
    host.booted(response);
    host.settle(response);
    if (response.status === 'Accepted') {
      this.needed = false;
      // "the Charge Point will adjust the heartbeat interval in accordance with the interval" (4.2).
      if (response.interval > 0)
        host.configuration.setInternal('HeartbeatInterval', String(response.interval));
      host.accepted();
      this.rearmHeartbeat();
    } else {
      // "the value of the interval field indicates the minimum wait time before sending a next
      // BootNotification request. If that interval value is zero, the Charge Point chooses" (4.2).
      this.scheduleBoot(response.interval > 0 ? response.interval : DEFAULT_BOOT_RETRY_S);
    }
  }

  /** Resolves when the central system has accepted the charge point (at once if it has); rejects when `events` disconnects for good. */
  whenAccepted(
    events: EventEmitter<ChargePointEvents>,
    running: () => boolean,
  ): Promise<BootNotificationResponse> {
    if (this.status === 'Accepted' && this.last) return Promise.resolve(this.last);
    return new Promise((resolve, reject) => {
      const onBoot = (boot: BootNotificationResponse) => {
        if (boot.status !== 'Accepted') return;
        events.off('boot', onBoot);
        events.off('disconnected', onGone);
        resolve(boot);
      };
      const onGone = () => {
        if (running()) return;
        events.off('boot', onBoot);
        events.off('disconnected', onGone);
        reject(new Error(`${this.host.identity} was disconnected before it was accepted`));
      };
      events.on('boot', onBoot);
      events.on('disconnected', onGone);
    });
  }

  /** A BootNotification the central system asked for with (Extended)TriggerMessage. */
  sendBootNow(): void {
    this.host.clock.clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
    void this.sendBoot();
  }

  /** The connection closed: no heartbeat, no boot retry; a Pending or Rejected charge point registers again. */
  disconnected(): void {
    this.stopTimers();
    if (this.status !== 'Accepted') this.needed = true;
  }

  /** A reboot: the next connection registers anew. */
  forget(): void {
    this.needed = true;
    this.status = undefined;
  }

  stopTimers(): void {
    this.host.clock.clearTimeout(this.heartbeatTimer);
    this.host.clock.clearTimeout(this.bootTimer);
    this.heartbeatTimer = undefined;
    this.bootTimer = undefined;
  }

  /** (Re)starts the heartbeat countdown; called on every exchange and when HeartbeatInterval changes. */
  rearmHeartbeat(): void {
    const { host } = this;
    host.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (!host.isOnline() || this.status !== 'Accepted') return;
    const intervalS = host.configuration.int('HeartbeatInterval', 0);
    if (intervalS <= 0) return;
    this.heartbeatTimer = host.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.sendHeartbeat();
    }, intervalS * 1000);
  }

  sendHeartbeat(triggered = false): void {
    this.host
      .callHeartbeat(triggered)
      .catch((err: Error) => this.host.log.warn(`${this.host.identity}: Heartbeat failed: ${err.message}`));
  }

  private scheduleBoot(afterS: number): void {
    this.host.clock.clearTimeout(this.bootTimer);
    this.bootTimer = this.host.clock.setTimeout(() => {
      this.bootTimer = undefined;
      if (this.host.isOnline()) void this.sendBoot();
    }, afterS * 1000);
  }
}
