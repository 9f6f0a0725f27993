import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import {
  closeIfUnread,
  IdleWatch,
  plainAddress,
  RefusalLog,
  sameAddress,
  TRANSFER_IDLE_MS,
} from './file-guards';

/**
 * Firmware downloads and diagnostics/log uploads served by the central system itself, on the HTTP
 * server the chargers already reach (its WebSocket port): each transfer has a random one-time
 * token in its URL, `<base>ampflow-files/<token>/<file name>`, that expires. A token works for one
 * complete transfer: a download served to its end or an upload stored; a wrong, used or expired
 * token is refused (404, 410) and logged with the caller's address (in summary: file-guards.ts).
 * A link answers only the address of the charger it was made for (403 from any other), and a
 * transfer that moves nothing for TRANSFER_IDLE_MS is cut, its link free for the charger's retry.
 * HTTP only (GET for downloads, PUT or POST, raw or multipart/form-data, for uploads); FTP is not
 * served.
 */

/** The path segment under the central system's path that file URLs live in. */
export const FILES_SEGMENT = 'ampflow-files';
/** How long a token is good for after its command (after the retrieve date for a firmware). */
export const FILE_TOKEN_TTL_MS = 60 * 60 * 1000;
/** How long an upload's body may take to arrive (the own server's request timeout). */
export const UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;
/** The largest upload stored. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export type FileKind = 'firmware' | 'diagnostics' | 'log';

/** A firmware to serve: a file on the Node-RED host or its content. */
export type FirmwareSource = { path: string; fileName?: string } | { content: Buffer; fileName: string };

/** A file a charger uploaded. */
export interface FileUpload {
  chargePointId: string;
  kind: 'diagnostics' | 'log';
  fileName: string;
  size: number;
  receivedAt: string;
  /** Where it was stored (`<data folder>/files/<identity>/`); absent without a data folder. */
  path?: string;
  /** The content, when no data folder keeps it. */
  content?: Buffer;
  /** A 2.0.1 GetLog's requestId. */
  requestId?: number;
}

export interface FileExchangeOptions {
  clock: Clock;
  log: Logger;
  /** Uploads are stored under `<directory>/<identity>/`; without one they are handed on in memory. */
  directory?: string;
  maxUploadBytes?: number;
  /**
   * The address the charger's OCPP connection comes from, as the listener's socket sees it;
   * undefined while it has none (the link then answers the address it had when the link was made).
   */
  chargerAddress(chargePointId: string): string | undefined;
  uploaded(upload: FileUpload): void;
}

interface Ticket {
  kind: FileKind;
  chargePointId: string;
  fileName: string;
  expiresAtMs: number;
  source?: FirmwareSource;
  requestId?: number;
  /** The charger's address when the link was made. */
  address?: string;
  /** A transfer is running on it (a second at the same time is refused). */
  busy?: boolean;
}

export class FileExchange {
  private readonly tickets = new Map<string, Ticket>();
  /** Tokens used or expired, and until when they are remembered as such. */
  private readonly spent = new Map<string, number>();
  private readonly refusals: RefusalLog;

  constructor(private readonly options: FileExchangeOptions) {
    this.refusals = new RefusalLog(options.clock, options.log);
  }

  /** Says what the refusal log still counts, and stops its timer. */
  close(): void {
    this.refusals.close();
  }

  /** A token for one download of `source` by `chargePointId`, good until `notAfterMs`. */
  offerFirmware(chargePointId: string, source: FirmwareSource, notAfterMs: number): string {
    const fileName = safeName(
      source.fileName ?? ('path' in source ? (source.path.split(/[\\/]/).pop() ?? '') : ''),
      'firmware.bin',
    );
    return this.issue({ kind: 'firmware', chargePointId, fileName, expiresAtMs: notAfterMs, source });
  }

  /** A token for one upload of diagnostics or a log by `chargePointId`. */
  expectUpload(chargePointId: string, kind: 'diagnostics' | 'log', notAfterMs: number, requestId?: number) {
    return this.issue({
      kind,
      chargePointId,
      fileName: '',
      expiresAtMs: notAfterMs,
      ...(requestId === undefined ? {} : { requestId }),
    });
  }

  /** The URL path (after the base) of a token: the firmware's name for a download, a directory for an upload. */
  pathOf(token: string): string {
    const ticket = this.tickets.get(token);
    return `${FILES_SEGMENT}/${token}/${ticket?.kind === 'firmware' ? encodeURIComponent(ticket.fileName) : ''}`;
  }

  /** Tokens still open. */
  get open(): number {
    this.sweep();
    return this.tickets.size;
  }

  /**
   * Answers `request` when its path is `<prefix>ampflow-files/...`; false for any other path (the
   * caller answers it).
   */
  handle(prefix: string, request: IncomingMessage, response: ServerResponse): boolean {
    const pathname = (request.url ?? '/').split('?')[0] ?? '/';
    const base = `${prefix}${FILES_SEGMENT}/`;
    if (!pathname.startsWith(base)) return false;
    const [token = '', ...rest] = pathname.slice(base.length).split('/');
    // Only an accepted upload reads its body; a refused request's connection is closed when answered.
    closeIfUnread(request, response, this.options.clock);
    const address = request.socket.remoteAddress;
    const from = address === undefined ? 'unknown address' : plainAddress(address);
    this.sweep();
    const ticket = this.tickets.get(token);
    if (!ticket) {
      const used = this.spent.has(token);
      this.refusals.refused(
        from,
        used ? 'used or expired token' : 'unknown token',
        () =>
          `file request ${request.method} from ${from} refused: ${used ? 'its token was used or has expired' : 'unknown token'}`,
      );
      reply(response, used ? 410 : 404, used ? 'this link was used or has expired\n' : 'not found\n');
      return true;
    }
    // The link is the charger's: from anyone else's address it does nothing, and stays good.
    const chargerAt = this.options.chargerAddress(ticket.chargePointId) ?? ticket.address;
    if (!sameAddress(address, chargerAt)) {
      this.refusals.refused(
        from,
        "another charger's address",
        () =>
          `${ticket.kind} link of ${ticket.chargePointId} used from ${from} refused (403): the charger's connection comes from ${chargerAt === undefined ? 'no known address' : plainAddress(chargerAt)}`,
      );
      reply(response, 403, "this link is for another charger's address\n");
      return true;
    }
    const method = request.method ?? 'GET';
    if (
      ticket.kind === 'firmware'
        ? method !== 'GET' && method !== 'HEAD'
        : method !== 'PUT' && method !== 'POST'
    ) {
      response.setHeader('Allow', ticket.kind === 'firmware' ? 'GET, HEAD' : 'PUT, POST');
      reply(
        response,
        405,
        `${ticket.kind === 'firmware' ? 'download with GET' : 'upload with PUT or POST'}\n`,
      );
      return true;
    }
    if (ticket.busy) {
      reply(response, 409, 'a transfer on this link is running\n');
      return true;
    }
    if (method === 'HEAD') {
      reply(response, 200, '');
      return true;
    }
    // The name an upload gives in its URL; a broken percent escape is the charger's mistake, refused
    // before the link is taken, so the link stays good for a corrected retry.
    const nameInUrl = ticket.kind === 'firmware' ? '' : decodedName(rest.join('/'));
    if (nameInUrl === undefined) {
      this.options.log.warn(
        `${ticket.kind} upload of ${ticket.chargePointId} from ${from} refused: its file name in the URL is not valid percent-encoding`,
      );
      reply(response, 400, 'the file name in the URL is not valid percent-encoding\n');
      return true;
    }
    // On Node-RED's shared server its admin API, mounted before the HTTP nodes at the same root,
    // reads JSON and form bodies itself: nothing of the file is left to read. Refused, link kept.
    if (ticket.kind !== 'firmware' && request.readableEnded) {
      this.options.log.warn(
        `${ticket.kind} upload of ${ticket.chargePointId} from ${from} refused (415): its body (Content-Type ${String(request.headers['content-type'])}) was read by another handler of the server`,
      );
      reply(response, 415, 'upload as application/octet-stream or multipart/form-data\n');
      return true;
    }
    ticket.busy = true;
    const done = (ok: boolean) => {
      ticket.busy = false;
      if (ok) this.spend(token);
    };
    if (ticket.kind === 'firmware') this.serve(ticket, response, from, done);
    else this.receive(ticket, nameInUrl, request, response, from, done);
    return true;
  }

  private issue(ticket: Ticket): string {
    this.sweep();
    const token = randomBytes(24).toString('base64url');
    const address = this.options.chargerAddress(ticket.chargePointId);
    this.tickets.set(token, address === undefined ? ticket : { ...ticket, address });
    return token;
  }

  private spend(token: string): void {
    const ticket = this.tickets.get(token);
    this.tickets.delete(token);
    // Kept an hour past its expiry, so a charger that retries late reads 410, not 404.
    if (ticket)
      this.spent.set(token, Math.max(ticket.expiresAtMs, this.options.clock.now()) + FILE_TOKEN_TTL_MS);
  }

  private sweep(): void {
    const now = this.options.clock.now();
    for (const [token, ticket] of this.tickets) {
      if (ticket.expiresAtMs <= now && !ticket.busy) this.spend(token);
    }
    for (const [token, until] of this.spent) if (until <= now) this.spent.delete(token);
  }

  private serve(ticket: Ticket, response: ServerResponse, from: string, done: (ok: boolean) => void): void {
    const source = ticket.source as FirmwareSource;
    const name = `firmware ${ticket.fileName} for ${ticket.chargePointId}`;
    const send = (size: number, body: (response: ServerResponse) => void) => {
      // A charger that stops taking its firmware (gone, or its socket left half-open) frees the link.
      const watch = new IdleWatch(
        this.options.clock,
        () => {
          this.options.log.warn(
            `${name}: ${from} took nothing for ${TRANSFER_IDLE_MS / 1000} s; cut, the link is free for a retry`,
          );
          response.destroy();
        },
        () => response.writableLength,
      );
      // Spent once all of it is sent; a transfer broken off (or cut) leaves the link good for a
      // retry. A destroyed socket calls back its pending writes, which ends the response too
      // ('finish'): that is no delivery.
      const socket = response.socket;
      let settled = false;
      const settle = (delivered: boolean) => {
        if (settled) return;
        settled = true;
        watch.stop();
        done(delivered);
        if (delivered) this.options.log.info(`${name} downloaded by ${from}`);
      };
      response.on('finish', () => settle(socket?.destroyed !== true));
      response.on('close', () => settle(false));
      response.setHeader('Content-Type', 'application/octet-stream');
      response.setHeader('Content-Disposition', `attachment; filename="${ticket.fileName}"`);
      response.setHeader('Content-Length', size);
      body(response);
    };
    if ('content' in source) {
      send(source.content.length, (out) => out.end(source.content));
      return;
    }
    // Read whole (a firmware is megabytes): the response ends with its last byte, so the link is
    // spent before the charger can ask again.
    readFile(source.path).then(
      (content) => send(content.length, (out) => out.end(content)),
      (err: Error) => {
        // Not spent: the file may be put back while the link is good.
        done(false);
        this.options.log.error(`${name}: cannot read ${source.path}: ${err.message}`);
        reply(response, 500, 'the firmware file cannot be read\n');
      },
    );
  }

  private receive(
    ticket: Ticket,
    nameInUrl: string,
    request: IncomingMessage,
    response: ServerResponse,
    from: string,
    done: (ok: boolean) => void,
  ): void {
    const limit = this.options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // A body that stops coming (a charger gone mid-upload, a client that sends headers only)
    // frees the link after TRANSFER_IDLE_MS, not after the server's request timeout.
    const watch = new IdleWatch(this.options.clock, () => {
      if (refused) return;
      refused = true;
      done(false);
      this.options.log.warn(
        `${ticket.kind} upload of ${ticket.chargePointId} from ${from}: no byte for ${TRANSFER_IDLE_MS / 1000} s after ${size}; cut, the link is free for a retry`,
      );
      if (!response.headersSent) response.setHeader('Connection', 'close');
      response.once('finish', () => request.socket.destroy());
      reply(response, 408, `no byte of the upload for ${TRANSFER_IDLE_MS / 1000} s\n`);
    });
    request.on('data', (chunk: Buffer) => {
      watch.moved();
      size += chunk.length;
      if (size > limit && !refused) {
        refused = true;
        watch.stop();
        done(false);
        if (!response.headersSent) response.setHeader('Connection', 'close');
        reply(response, 413, `an upload has at most ${limit} bytes\n`);
        request.destroy();
      }
      if (!refused) chunks.push(chunk);
    });
    request.on('error', () => {
      watch.stop();
      if (!refused) done(false);
      refused = true;
    });
    // Broken off before its end (no 'error' on every Node version): the link is free again.
    request.on('close', () => {
      watch.stop();
      if (!request.complete && !refused) {
        refused = true;
        done(false);
      }
    });
    request.on('end', () => {
      watch.stop();
      if (refused) return;
      const body = Buffer.concat(chunks);
      const part = multipartFile(String(request.headers['content-type'] ?? ''), body);
      const content = part?.content ?? body;
      const fileName = safeName(
        part?.fileName || nameInUrl,
        `${ticket.kind}-${ticket.chargePointId}-${this.options.clock.now()}.log`,
      );
      this.store(ticket, fileName, content).then(
        (upload) => {
          done(true);
          reply(response, 201, 'stored\n');
          this.options.log.info(
            `${ticket.kind} of ${ticket.chargePointId} uploaded by ${from}: ${fileName}, ${content.length} bytes`,
          );
          this.options.uploaded(upload);
        },
        (err: Error) => {
          done(false);
          this.options.log.error(`${ticket.kind} of ${ticket.chargePointId} not stored: ${err.message}`);
          reply(response, 500, 'the upload could not be stored\n');
        },
      );
    });
  }

  private async store(ticket: Ticket, fileName: string, content: Buffer): Promise<FileUpload> {
    const receivedAt = new Date(this.options.clock.now()).toISOString();
    const upload: FileUpload = {
      chargePointId: ticket.chargePointId,
      kind: ticket.kind as 'diagnostics' | 'log',
      fileName,
      size: content.length,
      receivedAt,
      ...(ticket.requestId === undefined ? {} : { requestId: ticket.requestId }),
    };
    if (!this.options.directory) return { ...upload, content };
    const directory = join(this.options.directory, safeName(ticket.chargePointId, 'charger'));
    await mkdir(directory, { recursive: true });
    // Two uploads of one charger can end in the same millisecond with the same name (two requests
    // answered at once, each named by the clock): the second gets a number, never the first's file.
    const stamp = receivedAt.replace(/[:.]/g, '-');
    for (let n = 1; ; n++) {
      const path = join(directory, n === 1 ? `${stamp}-${fileName}` : `${stamp}-${n}-${fileName}`);
      try {
        await writeFile(path, content, { flag: 'wx' });
        return { ...upload, path };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= MAX_SAME_NAME) throw err;
      }
    }
  }
}

/** Uploads of one charger with the same name in the same millisecond that are kept apart (then an error). */
const MAX_SAME_NAME = 100;

/** A URL path segment decoded, or undefined when its percent escapes are broken (`%E0%A4%A`). */
function decodedName(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A file or directory name without path separators, control characters or leading dots. */
function safeName(name: string, fallback: string): string {
  const cleaned = name
    .replace(/[\\/:*?"<>|\p{Cc}]/gu, '_')
    .replace(/^\.+/, '')
    .slice(0, 120);
  return cleaned || fallback;
}

/** The first file part of a multipart/form-data body (what most chargers POST), or undefined. */
export function multipartFile(
  contentType: string,
  body: Buffer,
): { fileName: string; content: Buffer } | undefined {
  const boundary = /multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headersStart = at + delimiter.length + 2;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart);
    if (headersEnd < 0) return undefined;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
    if (next < 0) return undefined;
    const headers = body.subarray(headersStart, headersEnd).toString('utf8');
    const fileName = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (fileName !== undefined) return { fileName, content: body.subarray(headersEnd + 4, next) };
    at = next + 2;
  }
  return undefined;
}

function reply(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(text);
}
