import type { RawCharger } from './raw-socket';

/**
 * How the OCPP fuzzer (fuzz-ocpp_spec.ts, one run per version, 1.6 and 2.0.1) sends its frames
 * and records what was not answered as expected; what counts as expected is each version's own
 * (its `check`).
 */

/** A frame of either version: what the lanes need of it. */
export interface LaneFrame {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  /** What it asks for; `code` is the close code where `reply` is 'close'. */
  expect: { reply: string; code?: unknown };
}

export interface Mismatch {
  index: number;
  kind: string;
  frame: string;
  problem: string;
}

/** Checks the answer to one frame sent on a socket; returns what was wrong, if anything. */
export type FrameCheck<F> = (socket: RawCharger, frame: F, index: number) => Promise<string | undefined>;

export function excerpt(data: string | Buffer): string {
  const text = data.toString();
  return text.length > 160 ? `${text.slice(0, 160)}… (${text.length} characters)` : text;
}

/**
 * A frame nothing may answer: the next frame must be the answer to a probe sent after it, and a
 * rejection logged (`logged`) or not, as `unreadableLogged` counts them from `loggedBefore`.
 */
export async function unansweredProblem(
  socket: RawCharger,
  index: number,
  logged: boolean,
  loggedBefore: number,
  unreadableLogged: () => number,
): Promise<string | undefined> {
  const probe = `probe-${index}`;
  const answer = JSON.parse(await socket.ask(JSON.stringify([2, probe, 'Heartbeat', {}]))) as unknown[];
  if (answer[0] !== 3 || answer[1] !== probe) return `answered ${JSON.stringify(answer)}, expected no answer`;
  const count = unreadableLogged() - loggedBefore;
  if (logged && count !== 1) return `logged ${count} rejections, expected 1`;
  if (!logged && count !== 0) return `logged ${count} rejections, expected none`;
  return undefined;
}

/**
 * Sends every `lanes`-th frame from `lane` on `socket`, one at a time, recording what was not
 * answered as expected; stops when the connection closes (a mismatch too). Returns the answer to a
 * Heartbeat after all of them (undefined when closed): it must still be served.
 */
export async function fuzzLane<F extends LaneFrame>(
  socket: RawCharger,
  frames: readonly F[],
  lane: number,
  lanes: number,
  check: FrameCheck<F>,
  mismatches: Mismatch[],
): Promise<unknown[] | undefined> {
  for (let index = lane; index < frames.length; index += lanes) {
    const frame = frames[index] as F;
    const mismatch = (problem: string) =>
      mismatches.push({ index, kind: frame.kind, frame: excerpt(frame.data), problem });
    try {
      const problem = await check(socket, frame, index);
      if (problem) mismatch(problem);
    } catch (err) {
      mismatch((err as Error).message);
    }
    if (socket.closed) {
      mismatch(`closed the connection (${socket.closed.code} ${socket.closed.reason})`);
      return undefined;
    }
  }
  return JSON.parse(await socket.ask(JSON.stringify([2, 'last', 'Heartbeat', {}]))) as unknown[];
}

/** Sends each frame a connection cannot survive on a connection of its own; it must close as told. */
export async function fatalLane(
  open: (index: number) => Promise<RawCharger>,
  fatal: readonly LaneFrame[],
  mismatches: Mismatch[],
): Promise<void> {
  for (const [index, frame] of fatal.entries()) {
    const socket = await open(index);
    socket.send(frame.data, frame.binary);
    const closed = await Promise.race([
      socket.whenClosed,
      socket.next().then((answer) => ({ code: -1, reason: `answered ${answer}` })),
    ]);
    const expected = frame.expect.reply === 'close' ? Number(frame.expect.code) : 0;
    if (closed.code !== expected)
      mismatches.push({
        index,
        kind: frame.kind,
        frame: excerpt(frame.data),
        problem: `closed with ${closed.code} ${closed.reason}, expected ${expected}`,
      });
  }
}

/** How many frames of each kind, binary or not, sorted by kind. */
export function kindCounts(frames: readonly LaneFrame[]): Record<string, number> {
  const kinds = new Map<string, number>();
  for (const frame of frames) {
    const kind = frame.kind.replace(' (binary frame)', '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return Object.fromEntries([...kinds].sort(([a], [b]) => a.localeCompare(b)));
}

/** The first mismatches by frame index, as an assertion shows them. */
export function firstMismatches(mismatches: Mismatch[]): string[] {
  return mismatches
    .sort((a, b) => a.index - b.index)
    .slice(0, 12)
    .map((m) => `#${m.index} ${m.kind}: ${m.problem}\n      frame: ${m.frame}`);
}
