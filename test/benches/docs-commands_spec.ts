/**
 * Every bench command the documentation gives runs and prints figures (issue 46: `npm run bench:dlm`
 * broke when lib/dlm moved into folders, and nothing ran it). The commands are read from the docs,
 * so a new row of docs/performance.md is covered without editing this file; each runs as written,
 * at a tiny size (AMPFLOW_BENCH_TINY=1: each bench caps its own sizes, bench/support/options.ts),
 * on one package build shared by the benches that measure the compiled package. The figures of a
 * tiny run mean nothing: this proves that the command runs, not what it measures.
 *
 * `npm run test:benches`, a step of .ci/run (not of `npm test`: it shells out to npm and tsx for each
 * command, about 90 s of CPU in all, which `npm test` run by hand should not pay).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchDirectory, buildPackage } from '../../bench/support/node-red';
import { packageJson, repoRoot } from '../support/repo';

/** Where the commands are read from: the README and every page under docs/. */
function documentationFiles(): string[] {
  const pages = readdirSync(join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file));
  return ['README.md', ...pages.sort()];
}

/** Inline code spans (a span may wrap a line) that are commands to run: npm scripts, tsx, mocha. */
function documentedCommands(): { command: string; file: string }[] {
  const found: { command: string; file: string }[] = [];
  for (const file of documentationFiles()) {
    const text = readFileSync(join(repoRoot, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const match of text.matchAll(/`([^`]+)`/g)) {
      // `[--seed N]`: an optional part, left out.
      const command = (match[1] ?? '')
        .replace(/\s+/g, ' ')
        .replace(/ ?\[[^\]]*\]/g, '')
        .trim();
      if (/^(npm run bench:|npx tsx bench\/|(\w+=\S+ )*npx mocha )/.test(command))
        found.push({ command, file });
    }
  }
  return found;
}

/** A placeholder for the reader to fill in (`--seed N`, `<dir>`, `…`): not a command as written. */
const isTemplate = (command: string) => /(^| )N( |$)|<[^>]*>|…/.test(command);

/**
 * Commands that differ only in their seeds run once: a seed picks other data for the same code,
 * and at a tiny size the days are cut before most of what a seed changes happens.
 */
const withoutSeed = (command: string) => command.replace(/ --seed \d+/g, '');

/** bench:* scripts no page gives a command for, with the command that runs them. */
const UNDOCUMENTED: Record<string, string> = {
  // Compares lib/ with an older copy of itself (its header); against the checkout itself every
  // answer must be the same, or it exits 1.
  'bench:dlm-compare': 'npm run bench:dlm-compare -- --old .',
};

const benchScripts = Object.keys(packageJson.scripts as Record<string, string>).filter((name) =>
  name.startsWith('bench:'),
);

const all = documentedCommands();
const runnable = new Map<string, string>();
for (const { command } of all) {
  if (command.includes('npx mocha') || isTemplate(command)) continue;
  const key = withoutSeed(command);
  if (!runnable.has(key)) runnable.set(key, command);
}
for (const [script, command] of Object.entries(UNDOCUMENTED))
  if (![...runnable.values()].some((c) => c.startsWith(`npm run ${script}`))) runnable.set(command, command);

/** Runs `command` in a shell from the checkout; resolves with its exit code and its output. */
function run(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Lines with a figure: a digit, not npm's banner nor the machine and command header every bench prints. */
function figureLines(output: string): string[] {
  return output.split('\n').filter((line) => /\d/.test(line) && !/^(> |machine:|command:)/.test(line.trim()));
}

describe('every bench command the docs give runs at a tiny size (AMPFLOW_BENCH_TINY=1)', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    dir = benchDirectory();
    env = { ...process.env, AMPFLOW_BENCH_TINY: '1', AMPFLOW_BENCH_PACKAGE: buildPackage(dir) };
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the commands, and one for every bench:* script of package.json', () => {
    assert.ok(runnable.size >= 10, `only ${runnable.size} commands found in README.md and docs/`);
    const missing = benchScripts.filter(
      (script) =>
        ![...runnable.values()].some((c) => c === `npm run ${script}` || c.startsWith(`npm run ${script} `)),
    );
    assert.deepEqual(
      missing,
      [],
      'bench scripts with no command in the docs (document one, or add it to UNDOCUMENTED)',
    );
    for (const command of runnable.values()) {
      const script = /^npm run (\S+)/.exec(command)?.[1];
      if (script)
        assert.ok(benchScripts.includes(script), `${command}: package.json has no script ${script}`);
      const file = /^npx tsx (\S+)/.exec(command)?.[1];
      if (file) assert.ok(existsSync(join(repoRoot, file)), `${command}: no file ${file}`);
    }
  });

  it('each mocha command names a spec that CI runs, and its --grep names a test in it', () => {
    const suites = ['test/unit/', 'test/nodes/', 'test/e2e/', 'test/reliability/'];
    for (const { command, file } of all.filter((c) => c.command.includes('npx mocha'))) {
      const spec = /npx mocha (\S+_spec\.ts)/.exec(command)?.[1];
      assert.ok(spec, `${file}: \`${command}\` names no spec file`);
      assert.ok(existsSync(join(repoRoot, spec)), `${file}: \`${command}\`: no file ${spec}`);
      assert.ok(
        suites.some((folder) => spec.startsWith(folder)),
        `${file}: ${spec} is in none of the folders npm test and test:reliability run`,
      );
      const grep = /--grep "([^"]+)"/.exec(command)?.[1];
      if (grep)
        assert.ok(
          readFileSync(join(repoRoot, spec), 'utf8').includes(grep),
          `${file}: \`${command}\`: no test in ${spec} says "${grep}"`,
        );
    }
  });

  for (const command of runnable.values()) {
    it(command, async () => {
      const { code, output } = await run(command, env);
      const tail = output.split('\n').slice(-25).join('\n');
      assert.equal(code, 0, `\`${command}\` exited with ${code}:\n${tail}`);
      assert.ok(figureLines(output).length > 0, `\`${command}\` printed no figures:\n${tail}`);
      assert.ok(!/\bNaN\b/.test(output), `\`${command}\` printed NaN:\n${tail}`);
    });
  }
});
