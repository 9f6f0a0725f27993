import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { redactSecrets, startCentralSystemCli } from '../../../lib/ocpp/cli';
import { rpcChargePoint } from '../../support/charge-point';
import { BOOT } from '../../support/ocpp';
import { freePort } from '../../support/ports';

describe('ampflow-cs command line', () => {
  let cs: CentralSystem | undefined;
  let directory: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'ampflow-cli-'));
    out.length = 0;
    err.length = 0;
  });

  afterEach(async () => {
    await cs?.stop();
    cs = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  it('runs a central system and logs every frame on one line', async () => {
    const port = await freePort();
    cs = await startCentralSystemCli(
      ['--host', '127.0.0.1', '--port', String(port), '--unknown', 'accept'],
      io,
    );
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}`, 'TACW2242920G0720');
    await charger.connect();
    await charger.call('BootNotification', BOOT);
    await charger.close();
    const frames = out.filter((line) => / TACW2242920G0720 (->|<-) \[/.test(line));
    assert.match(
      frames[0] ?? '',
      /^\S+Z TACW2242920G0720 -> \[2,"[^"]+","BootNotification",\{"chargePointVendor":"ampflow"/,
    );
    assert.match(frames[1] ?? '', /^\S+Z TACW2242920G0720 <- \[3,"[^"]+",\{"status":"Accepted"/);
    assert.ok(out.some((line) => /central system listening on ws:\/\/127\.0\.0\.1:\d+\//.test(line)));
  });

  it('says how to accept a charger it answers Pending', async () => {
    const port = await freePort();
    cs = await startCentralSystemCli(['--host', '127.0.0.1', '--port', String(port), '--quiet'], io);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}`, 'NEW-CHARGER');
    await charger.connect();
    await charger.call('BootNotification', BOOT);
    await charger.close();
    assert.ok(
      out.some((line) =>
        /NEW-CHARGER is unknown and waits for approval: restart with --unknown accept/.test(line),
      ),
    );
    assert.equal(out.filter((line) => / -> \[/.test(line)).length, 0, '--quiet logs no frames');
  });

  it('checks passwords from a file', async () => {
    const port = await freePort();
    const passwords = join(directory, 'passwords.txt');
    writeFileSync(passwords, 'CP-1 0123456789abcdef0123\n');
    cs = await startCentralSystemCli(
      ['--host', '127.0.0.1', '--port', String(port), '--security-profile', '1', '--passwords', passwords],
      io,
    );
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}`, 'CP-1', { password: '0123456789abcdef0123' });
    await charger.connect();
    await charger.close();
  });

  it('names the option at fault', async () => {
    await assert.rejects(
      startCentralSystemCli(['--port', 'ninety'], io),
      /^ConfigError: --port: "ninety" is not a TCP port/,
    );
    await assert.rejects(
      startCentralSystemCli(['--unknown', 'sure'], io),
      /^ConfigError: --unknown: "sure" is not one of/,
    );
    await assert.rejects(
      startCentralSystemCli(['--colour'], io),
      /^ConfigError: command line: Unknown option '--colour'/,
    );
    await assert.rejects(
      startCentralSystemCli(['--security-profile', '1', '--passwords', join(directory, 'missing.txt')], io),
      /^ConfigError: --passwords: cannot read .*missing\.txt: ENOENT/,
    );
    const port = await freePort();
    const passwords = join(directory, 'passwords.txt');
    writeFileSync(passwords, 'CP-1 0123456789abcdef0123\n');
    await assert.rejects(
      startCentralSystemCli(
        [
          '--port',
          String(port),
          '--security-profile',
          '2',
          '--passwords',
          passwords,
          '--tls-cert',
          join(directory, 'cs.pem'),
          '--tls-key',
          join(directory, 'cs.key'),
        ],
        io,
      ),
      /^ConfigError: --tls-cert: cannot read .*cs\.pem: no such file/,
    );
  });

  it('prints help', async () => {
    assert.equal(await startCentralSystemCli(['--help'], io), undefined);
    assert.match(out.join('\n'), /Usage: ampflow-cs \[options\]/);
    assert.match(out.join('\n'), /an OCPP central system \(1\.6-J and 2\.0\.1\)/, 'not a 1.6-only one');
  });

  it('never prints a charger password (AuthorizationKey) in the frame log', () => {
    const set = '[2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"0123456789abcdef"}]';
    assert.equal(
      redactSecrets(set),
      '[2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"***"}]',
    );
    const reported =
      '[3,"8",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"se\\"cret"},{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}]';
    assert.equal(
      redactSecrets(reported),
      '[3,"8",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"***"},{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}]',
    );
  });
});
