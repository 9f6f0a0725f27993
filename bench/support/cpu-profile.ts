import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts V8's CPU profiler on this process; stop(name) writes `<tmpdir>/<name>-<pid>.cpuprofile`
 * (Chrome DevTools opens it) and returns its path.
 */
export async function startCpuProfile(): Promise<{ stop: (name: string) => Promise<string> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    stop: async (name) => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      const path = join(tmpdir(), `${name}-${process.pid}.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      return path;
    },
  };
}
