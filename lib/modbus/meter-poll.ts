/**
 * What one poll of a meter yields and how it is put together from the answers to its requests:
 * the {@link PollResult}, the {@link MeterReadError} of a request that failed, and the rules that
 * a reading is as old as its oldest part and that an answer that came long before the rest of the
 * poll is left out. The meter that polls is lib/modbus/meter.ts.
 */
import type { Reading } from '../contracts';
import { describeRange, ModbusRequestError } from './errors';
import type { ReadBlock } from './plan';
import type { DeviceProfile, Measurand } from './types';

/** A poll's request that failed: names the meter, its unit and bus, and the registers. */
export class MeterReadError extends Error {
  constructor(
    readonly meter: string,
    readonly unitId: number,
    readonly bus: string,
    readonly measurands: Measurand[],
    override readonly cause: Error,
    readonly block?: ReadBlock,
  ) {
    const registers = block
      ? `${measurands.join(', ')} (${describeRange(block.functionCode, block.address, block.quantity)}): `
      : '';
    const detail = cause instanceof ModbusRequestError ? cause.detail : cause.message;
    super(`meter "${meter}" (unit ${unitId} on bus "${bus}"): ${registers}${detail}`);
    this.name = 'MeterReadError';
  }

  /** Whether the bus, not the device, is the problem (not connected, closed, overloaded). */
  get busProblem(): boolean {
    // SunSpec discovery wraps the request's error once more.
    for (let cause: unknown = this.cause; cause instanceof Error; cause = cause.cause) {
      if (cause instanceof ModbusRequestError) return cause.busProblem;
    }
    return false;
  }
}

export interface PollResult {
  /**
   * The values of the requests that succeeded, stamped with the time the EARLIEST of them was
   * answered: a poll whose requests waited (a reconnect, a busy bus) is as old as its oldest part.
   */
  reading: Reading;
  /**
   * Requests that failed while others succeeded, and answers left out because they came more
   * than `staleAfterMs` before the rest of the poll: the reading lacks their values.
   */
  errors: MeterReadError[];
}

/** One poll as read: the result, and when each block that is in the reading was answered. */
export interface Poll {
  result: PollResult;
  answered: { block: ReadBlock; atMs: number }[];
  profile: DeviceProfile;
}

/** A poll's requests as they ended: each answer with the time it came, or why it failed. */
type PollOutcomes = PromiseSettledResult<{ registers: number[]; atMs: number }>[];

/** The answers a poll's reading is made of, and the failures it lacks. */
interface PollAnswers {
  /** By block index. */
  answers: Map<number, number[]>;
  answered: Poll['answered'];
  errors: MeterReadError[];
  /** When the earliest of the kept answers came; +Infinity when none was kept. */
  timestampMs: number;
}

/** Sorts the outcomes of `blocks` (in order) into kept answers and failures. */
export function collectAnswers(
  profile: DeviceProfile,
  blocks: ReadBlock[],
  outcomes: PollOutcomes,
  staleAfterMs: number,
  error: (measurands: Measurand[], cause: Error, block: ReadBlock) => MeterReadError,
): PollAnswers {
  const latestMs = Math.max(
    ...outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.atMs : 0)),
  );
  const answers = new Map<number, number[]>();
  const answered: Poll['answered'] = [];
  const errors: MeterReadError[] = [];
  let timestampMs = Number.POSITIVE_INFINITY;
  outcomes.forEach((outcome, index) => {
    const block = blocks[index] as ReadBlock;
    const measurands = [...new Set(block.registers.map((i) => profile.registers[i]?.measurand as Measurand))];
    if (outcome.status === 'rejected') {
      errors.push(error(measurands, outcome.reason as Error, block));
      return;
    }
    const { registers, atMs } = outcome.value;
    // An answer that came long before the rest (the bus reconnected in between) would be stale
    // on its own: it is left out rather than mixed with fresh values.
    if (staleAfterMs > 0 && latestMs - atMs > staleAfterMs) {
      const seconds = Math.round((latestMs - atMs) / 100) / 10;
      errors.push(
        error(
          measurands,
          new Error(
            `answered ${seconds} s before the rest of the poll, longer than the stale timeout (${staleAfterMs / 1000} s): left out`,
          ),
          block,
        ),
      );
      return;
    }
    answers.set(index, registers);
    answered.push({ block, atMs });
    timestampMs = Math.min(timestampMs, atMs);
  });
  return { answers, answered, errors, timestampMs };
}
