import { createRPCError, NOREPLY } from 'ocpp-rpc';
import { isCentralSystemAction } from '../lib/ocpp/actions';
import type { OcppRequest } from '../lib/ocpp/messages';
import { internalError, validateOcpp16 } from './schema';
import type {
  CommandOutcome,
  CommandOverride,
  CsAction,
  ReceivedMessage,
  RegistrationStatus,
  RepliedMessage,
} from './types';

/** What the dispatcher needs from the link. */
export interface DispatchHost {
  /** The status of the last BootNotification answer. */
  registration(): RegistrationStatus | undefined;
  /** Whether ocpp-rpc does not validate (no ocpp1.6 sub-protocol agreed): the link checks 1.6 shapes itself. */
  selfValidate(): boolean;
  handleCommand<A extends CsAction>(action: A, request: OcppRequest<A>): Promise<CommandOutcome<A>>;
  received(message: ReceivedMessage): void;
  replied(message: RepliedMessage): void;
}

/**
 * The link's side of the central system's requests (sim/link.ts): the overrides tests set,
 * 1.6 validation, the `received`/`replied` events, and the follow-ups that run once an answer is
 * out ("SHALL first send the response", 5.17).
 */
export class CommandDispatcher {
  private readonly afterReplies = new Map<string, () => void>();
  private readonly overrides = new Map<CsAction, CommandOverride<CsAction>>();

  constructor(private readonly host: DispatchHost) {}

  /** Answers `action` with `handler` instead of the default behaviour; undefined removes it. */
  override<A extends CsAction>(action: A, handler: CommandOverride<A> | undefined): void {
    if (handler) this.overrides.set(action, handler as unknown as CommandOverride<CsAction>);
    else this.overrides.delete(action);
  }

  /** Runs `fn` once the answer to `messageId` has been written. */
  afterReply(messageId: string, fn: () => void): void {
    this.afterReplies.set(messageId, fn);
  }

  /** The answer to `messageId` is being written: its follow-up runs right after. */
  answered(messageId: string): void {
    const after = this.afterReplies.get(messageId);
    if (!after) return;
    this.afterReplies.delete(messageId);
    // The answer is written right after this event; run the follow-up once it is out.
    queueMicrotask(after);
  }

  /** An OCPP 1.6 request from the central system. */
  async onRequest(action: string, params: unknown, messageId: string): Promise<unknown> {
    if (!isCentralSystemAction(action)) {
      throw createRPCError('NotImplemented', `${action} is not a Central System request`);
    }
    const csAction = action as CsAction;
    this.host.received({ action: csAction, request: params, messageId } as ReceivedMessage);
    // "While Rejected, the Charge Point SHALL NOT respond to any Central System initiated message" (4.2).
    if (this.host.registration() === 'Rejected') return NOREPLY as unknown as symbol;
    const { response, after } = await this.run(csAction, params, this.host.selfValidate());
    if (after) this.afterReplies.set(messageId, after);
    return response;
  }

  /**
   * Has the handler (or its override) answer a command in 1.6 shapes, with the `replied` event.
   * `validate`: check request and answer against the 1.6 schemas; a request that does not fit fails
   * with `invalid(action, err)` when given (a request translated from 2.0.1), else with err.
   */
  async run(
    action: CsAction,
    request: unknown,
    validate: boolean,
    invalid?: (action: CsAction, err: Error) => Error,
  ): Promise<{ response: unknown; after?: () => void }> {
    try {
      if (validate) {
        try {
          validateOcpp16(`urn:${action}.req`, request);
        } catch (err) {
          throw invalid ? invalid(action, err as Error) : err;
        }
      }
      let after: (() => void) | undefined;
      const next = async () => {
        const outcome = await this.host.handleCommand(action, request as never);
        after = outcome.after;
        return outcome.response;
      };
      const override = this.overrides.get(action);
      const response = override ? await override(request as never, next) : await next();
      if (validate) {
        try {
          validateOcpp16(`urn:${action}.conf`, response);
        } catch {
          throw internalError();
        }
      }
      this.host.replied({ action, request, response } as RepliedMessage);
      return after ? { response, after } : { response };
    } catch (err) {
      this.host.replied({ action, request, error: err as Error } as RepliedMessage);
      throw err;
    }
  }
}
