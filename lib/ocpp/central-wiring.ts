/**
 * How the central system's parts (central-system.ts, the façade) are wired to each other: a part
 * on a charger's call's way to the load manager gets the next one as the object it is (the
 * connections get ChargerCalls; the handlers their HandlerParts; every change goes to the
 * ConnectorStatePort), so "go to definition" follows the call; the others get what they ask of
 * each other as callbacks, so none imports another's internals. Also
 * the two things only the wiring needs: how long a silent charger counts as alive, and a 2.0.1
 * charger's translation path.
 */
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import { Admission } from './admission';
import type { FlowRequestHandlers } from './authorization';
import { CentralLifecycle } from './central-lifecycle';
import { CENTRAL_DEFAULTS, type CentralSystemOptions } from './central-options';
import type { CentralSystemEvents } from './central-types';
import { ChargerCalls } from './charger-calls';
import { ChargerState } from './charger-state';
import { CommandError } from './command-error';
import type { ChargePointOptions } from './connection';
import { ConnectorStatePort } from './connector-feed';
import { ConnectorNotes } from './connector-notes';
import { FileExchange } from './files';
import { OcppListener } from './listener';
import { LiveConnections } from './live-connections';
import { StatusRecall } from './status-recall';
import { TrafficGate } from './traffic';
import { centralPath } from './v201/central-path';

/** What the wiring asks of the façade: its events and its settings. */
export type CentralHost = Pick<EventEmitter<CentralSystemEvents>, 'emit' | 'listenerCount'> & {
  chargePointOptions(chargePointId: string): ChargePointOptions;
  heartbeatIntervalS(): number;
  nowIso(): string;
};

/** The parts of one central system. */
export interface CentralParts {
  listener: OcppListener;
  charges: ChargerState;
  notes: ConnectorNotes;
  /** The typed port of connector states (the load managers' feeds, the profile manager, the flows). */
  port: ConnectorStatePort;
  gate: TrafficGate;
  admission: Admission;
  connections: LiveConnections;
  lifecycle: CentralLifecycle;
  /** Firmware downloads and diagnostics/log uploads on the listener's own server (files.ts). */
  files: FileExchange;
  /** Where a charger reaches the file exchange: `http(s)://<the host it dialled><path>`. */
  fileBaseUrl(chargePointId: string): string;
}

/** Makes the parts of one central system for `host` and wires them together. */
export function wireCentral(
  host: CentralHost,
  options: CentralSystemOptions,
  clock: Clock,
  log: Logger,
  flowRequests: FlowRequestHandlers,
): CentralParts {
  // Each callback reads `parts` when it is called, after every part exists.
  const parts = {} as CentralParts;
  const listener = new OcppListener(
    options,
    {
      authenticate: (accept, reject, handshake) => parts.admission.authenticate(accept, reject, handshake),
      onClient: (client) => parts.connections.attach(client),
      request: (request, response) => parts.files.handle(parts.listener.pathPrefix, request, response),
    },
    clock,
    log,
  );
  const charges = new ChargerState(options, clock, log);
  const port = new ConnectorStatePort(host);
  const notes = new ConnectorNotes(
    charges.connectors,
    (state) => port.changed(state),
    () => host.nowIso(),
  );
  const gate = new TrafficGate({
    clock,
    log,
    notes,
    connection: (id) => parts.connections.get(id),
    known: (id) => charges.record(id) !== undefined,
    emitCommand: (event) => host.emit('command', event),
    afterCommand: (id, action, request, response) =>
      parts.lifecycle.runningHandlers?.records.afterCommand(id, action, request, response),
  });
  const admission = new Admission(options, {
    clock,
    log,
    record: (id) => charges.record(id),
    isListening: () => parts.lifecycle.state === 'listening',
    refused: (refusal) => host.emit('refused', refusal),
    held: (attempt) => host.emit('held', attempt),
    holder: (identity, remoteAddress) => parts.connections.holder(identity, remoteAddress),
    accepted: (...admitted) => charges.noteAdmitted(...admitted),
    identities: () => [
      ...(parts.lifecycle.state === 'listening' ? charges.recordedIds() : []),
      ...parts.connections.ids(),
    ],
  });
  // How long a charger may stay silent before its connection counts as dead: a generous multiple
  // of its heartbeat interval, the one it was given or the longer one it was configured with.
  const deadAfterMs = (id: string) =>
    (options.deadAfterHeartbeats ?? CENTRAL_DEFAULTS.deadAfterHeartbeats) *
    Math.max(host.heartbeatIntervalS(), charges.configuredHeartbeatS(id) ?? 0) *
    1000;
  const recall = new StatusRecall({
    log,
    registration: (id) => charges.record(id)?.registration,
    knowsStatus: (id) => charges.connectors.all(id).some((state) => state.status !== undefined),
    protocol: (id) => (connections.isConnected(id) ? connections.get(id)?.protocol : undefined),
    trigger: (id, connectorId) =>
      gate.call(id, 'TriggerMessage', {
        requestedMessage: 'StatusNotification',
        ...(connectorId === undefined ? {} : { connectorId }),
      }),
  });
  // A charger's CALL: the connection's admission, the recall, the operator's backend (the gate),
  // the handlers (charger-calls.ts).
  const calls = new ChargerCalls(recall, gate);
  const connections = new LiveConnections({
    clock,
    log,
    callTimeoutMs: (options.callTimeoutS ?? CENTRAL_DEFAULTS.callTimeoutS) * 1000,
    connectors: charges.connectors,
    chargePointOptions: (id) => host.chargePointOptions(id),
    isAccepted: (id) => admission.isAccepted(id),
    deadAfterMs,
    calls,
    seen: (id) => charges.noteSeen(id),
    port,
    emit: (event: keyof CentralSystemEvents, payload: unknown) => {
      host.emit(event, payload as never);
      if (event === 'connect') recall.connected((payload as { chargePointId: string }).chargePointId);
    },
    framesWanted: () => host.listenerCount('frame') > 0,
    // The central system's side of an OCPP 2.0.1 charger's translation (v201/central-path.ts).
    ocpp201: (id) =>
      centralPath(
        {
          charges,
          log,
          nowIso: () => host.nowIso(),
          emitMessage: (message) => host.emit('message', message),
          notes,
        },
        id,
      ),
  });
  const lifecycle = new CentralLifecycle({
    options,
    log,
    clock,
    handlerParts: { options, charges, admission, gate, port, log, events: host },
    calls,
    listener,
    charges,
    connections,
    admission,
    dispatchFlowRequest: (request) => flowRequests.dispatch(request),
    emitState: (state) => host.emit('state', state),
    emitFailed: (err) => host.emit('failed', err),
  });
  const files = new FileExchange({
    clock,
    log,
    ...(options.dataDirectory ? { directory: join(options.dataDirectory, 'files') } : {}),
    // The same address the handshake saw (ocpp-rpc's socket address): a link answers only it.
    chargerAddress: (id) => connections.get(id)?.remoteAddress,
    uploaded: (upload) => host.emit('file', upload),
  });
  const fileBaseUrl = (id: string) => {
    if (options.server && !options.filesPath) {
      throw new CommandError(
        `location "ampflow" needs the central system on a port of its own, or Node-RED's HTTP nodes (httpNodeRoot) on the shared server: here it serves no files (give the charger a URL of another server)`,
        'InvalidRequest',
      );
    }
    const dialled = connections.get(id)?.dialledHost;
    if (!dialled) throw new CommandError(`charge point ${id} is not connected`, 'Offline');
    // The Host the charger dialled reaches this server: its name or address and the port.
    const hostPort = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(dialled)
      ? dialled
      : undefined;
    if (!hostPort)
      throw new CommandError(`charge point ${id} dialled an unusable Host "${dialled}"`, 'InvalidRequest');
    const path = options.server && options.filesPath ? options.filesPath : listener.pathPrefix;
    return `${listener.isTls ? 'https' : 'http'}://${hostPort}${path.endsWith('/') ? path : `${path}/`}`;
  };
  return Object.assign(parts, {
    listener,
    charges,
    notes,
    port,
    gate,
    admission,
    connections,
    lifecycle,
    files,
    fileBaseUrl,
  });
}
