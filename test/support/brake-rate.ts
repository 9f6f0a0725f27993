/**
 * The documented rate of the password brake (docs/security.md), written here from the docs, not
 * taken from lib/ocpp/brake.ts (the test checks the code against it): per identity, three
 * failures are checked at once, then each next check waits 1 s, 2 s, 4 s ... up to 30 s after the
 * one before. The most checks that fit in `ms`.
 */
export function checksAllowedWithin(ms: number): number {
  let checks = 4;
  let at = 0;
  for (let slowed = 1; ; slowed++) {
    at += Math.min(30_000, 1000 * 2 ** (slowed - 1));
    if (at > ms) return checks;
    checks++;
  }
}
