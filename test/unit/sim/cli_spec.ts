import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, HELP, parseCliArgs, runCli } from '../../../sim/cli';
import { TestCentralSystem } from './harness';

function parseError(argv: string[]): CliError {
  try {
    parseCliArgs(argv);
  } catch (err) {
    assert.ok(err instanceof CliError, String(err));
    return err;
  }
  assert.fail(`no error for ${argv.join(' ')}`);
}

describe('ampflow-sim command line', () => {
  it('parses the documented example with its defaults', () => {
    const options = parseCliArgs([
      '--url',
      'ws://host:9000/',
      '--count',
      '10',
      '--prefix',
      'SIM-',
      '--password',
      'X',
      '--connectors',
      '2',
      '--meter-interval',
      '60',
      '--session-minutes',
      '30',
      '--gap-minutes',
      '10',
      '--seed',
      '1',
      '--id-tag',
      '0A0E9B83,04A2B9C1D25E80',
      '--id-tag',
      'VISITOR',
      '--quirk',
      'celciusSpelling,noSubProtocol',
      '--quirk',
      'extraProperties',
      '--vendor',
      'abb-terra-ac',
    ]);
    assert.deepEqual(options, {
      url: 'ws://host:9000/',
      count: 10,
      prefix: 'SIM-',
      first: 1,
      identities: [],
      password: 'X',
      connectors: 2,
      phases: 3,
      maxCurrentA: 32,
      meterIntervalS: 60,
      heartbeatS: 300,
      sessionMinutes: 30,
      gapMinutes: 10,
      seed: 1,
      idTags: ['0A0E9B83', '04A2B9C1D25E80', 'VISITOR'],
      spreadS: 0,
      quirks: { celciusSpelling: true, noSubProtocol: true, extraProperties: true },
      vendor: 'abb-terra-ac',
      quiet: false,
    });
    assert.equal(parseCliArgs(['--help']), 'help');
  });

  it('names charge points one by one with --identity', () => {
    const options = parseCliArgs([
      '--url',
      'ws://x/',
      '--identity',
      'WALLBOX',
      '--identity',
      'GARAGE-2,+49*839*1',
    ]);
    assert.ok(options !== 'help');
    assert.deepEqual([options.count, options.identities], [3, ['WALLBOX', 'GARAGE-2', '+49*839*1']]);
  });

  it('names the option at fault', () => {
    const cases: [string[], string, RegExp][] = [
      [[], '--url', /required/],
      [['--url', 'http://x/'], '--url', /ws:\/\/ or wss:\/\//],
      [['--url', 'not a url'], '--url', /not a URL/],
      [['--url', 'ws://x', '--count', '0'], '--count', /whole number from 1/],
      [['--url', 'ws://x', '--count', 'ten'], '--count', /"ten"/],
      [['--url', 'ws://x', '--connectors', '1.5'], '--connectors', /whole number/],
      [['--url', 'ws://x', '--id-tag', 'A,'], '--id-tag', /1 to 20 characters, not ""/],
      [['--url', 'ws://x', '--identity', 'A', '--count', '2'], '--identity', /leave out --count/],
      [['--url', 'ws://x', '--identity', 'A', '--prefix', 'B'], '--identity', /leave out --prefix/],
      [['--url', 'ws://x', '--identity', 'A b'], '--identity', /no blanks/],
      [['--url', 'ws://x', '--identity', 'A,A'], '--identity', /given twice/],
      [['--url', 'ws://x', '--id-tag', 'X'.repeat(21)], '--id-tag', /1 to 20 characters/],
      [['--url', 'ws://x', '--phases', '2'], '--phases', /1 or 3/],
      [['--url', 'ws://x', '--meter-interval=-1'], '--meter-interval', /from 0/],
      [['--url', 'ws://x', '--meter-interval', '-1'], '--meter-interval', /ambiguous/],
      [['--url', 'ws://x', '--gap-minutes', 'x'], '--gap-minutes', /number/],
      [['--url', 'ws://x', '--quirk', 'sparkles'], '--quirk', /unknown quirk "sparkles"/],
      [
        ['--url', 'ws://x', '--vendor', 'toString'],
        '--vendor',
        /unknown charger model "toString"; known: abb-terra-ac/,
      ],
      [['--url', 'ws://x', '--prefix', 'a b'], '--prefix', /blanks/],
      [['--url', 'ws://x', '--password', ''], '--password', /empty/],
      [['--url', 'ws://x', '--ca', '/no/such/file.pem'], '--ca', /cannot read/],
      [['--url', 'ws://x', '--bogus'], '--bogus', /Unknown option/],
      [['--url', 'ws://x', '--count'], '--count', /argument missing/],
      [['--url', 'ws://x', 'extra'], 'arguments', /positional/],
    ];
    for (const [argv, option, message] of cases) {
      const err = parseError(argv);
      assert.equal(err.option, option, argv.join(' '));
      assert.match(err.message, message, argv.join(' '));
    }
  });

  it('checks certificate files belong to a wss:// URL and come as a pair', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ampflow-sim-'));
    try {
      const pem = join(dir, 'x.pem');
      writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      assert.equal(parseError(['--url', 'ws://x', '--ca', pem]).option, '--ca');
      assert.equal(parseError(['--url', 'wss://x', '--cert', pem]).option, '--key');
      const options = parseCliArgs(['--url', 'wss://x', '--ca', pem, '--cert', pem, '--key', pem]);
      assert.ok(options !== 'help' && options.ca?.includes('BEGIN CERTIFICATE'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains every option in --help', async () => {
    const out: string[] = [];
    const code = await runCli(['--help'], {
      out: (l) => out.push(l),
      err: () => undefined,
      stopped: Promise.resolve(),
    });
    assert.equal(code, 0);
    for (const option of [
      '--url',
      '--count',
      '--prefix',
      '--identity',
      '--password',
      '--connectors',
      '--phases',
      '--max-current',
      '--meter-interval',
      '--heartbeat',
      '--session-minutes',
      '--gap-minutes',
      '--seed',
      '--id-tag',
      '--spread',
      '--quirk',
      '--ca',
      '--cert',
      '--key',
      '--quiet',
      '--help',
    ]) {
      assert.ok(HELP.includes(`  ${option}`), option);
    }
    assert.equal(out.join('\n'), HELP);
  });

  it('exits with 2 and a hint on a usage error', async () => {
    const err: string[] = [];
    const code = await runCli(['--url', 'ws://x', '--count', '-3'], {
      out: () => undefined,
      err: (l) => err.push(l),
      stopped: Promise.resolve(),
    });
    assert.equal(code, 2);
    assert.match(err[0] ?? '', /^ampflow-sim: --count: /);
    assert.match(err[1] ?? '', /--help/);
  });

  /** Runs the CLI against a test central system until `enough` boots were accepted; its output lines. */
  async function runUntilBooted(args: string[], enough: number): Promise<{ out: string[]; urls: string[] }> {
    const cs = await TestCentralSystem.start();
    try {
      const out: string[] = [];
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let accepted = 0;
      const code = runCli(['--url', `ws://127.0.0.1:${cs.port}/`, ...args], {
        out: (line) => {
          out.push(line);
          if (/BootNotification Accepted/.test(line) && ++accepted === enough) stop();
        },
        err: (line) => out.push(`ERR ${line}`),
        stopped,
      });
      assert.equal(await code, 0);
      return { out, urls: cs.handshakes.map((h) => h.request.url ?? '').sort() };
    } finally {
      await cs.close();
    }
  }

  it('runs charge points against a central system, one line per event, and a summary when stopped', async () => {
    const { out, urls } = await runUntilBooted(['--count', '2', '--prefix', 'CLI-'], 2);
    assert.match(out[0] ?? '', /2 charge point\(s\) CLI-1\.\.CLI-2/);
    assert.ok(out.some((line) => /^\d\d:\d\d:\d\d CLI-1 connected/.test(line)));
    assert.match(
      out.at(-1) ?? '',
      /2 charge point\(s\), 2 connected, 2 accepted; sessions 0 started, 0 finished, 0 refused; 0\.0 kWh/,
    );
    assert.deepEqual(urls, ['/CLI-1', '/CLI-2']);
  });

  it('dials with the identity it is given', async () => {
    const { out, urls } = await runUntilBooted(['--identity', 'WALLBOX'], 1);
    assert.match(out[0] ?? '', /1 charge point\(s\) WALLBOX -> /);
    assert.deepEqual(urls, ['/WALLBOX']);
  });
});
