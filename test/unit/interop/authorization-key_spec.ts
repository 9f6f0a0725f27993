import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { PasswordBook } from '../../../lib/ocpp/passwords';
import { waitFor } from '../../support/events';
import { roundTrip, useInterop, useTempDirectory } from './support';

const OLD = '0123456789abcdef0123456789abcdef';
const NEW = 'fedcba9876543210fedcba9876543210';

/** The HTTP status a plain WebSocket charger gets for `identity` with `password` (101: it got in). */
async function dial(cs: CentralSystem, identity: string, password: string): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${cs.port}/${identity}`, ['ocpp1.6'], {
    headers: { Authorization: `Basic ${Buffer.from(`${identity}:${password}`).toString('base64')}` },
  });
  return await new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.once('close', () => resolve(101));
      ws.close();
    });
    ws.once('error', reject);
  });
}

function filesContaining(directory: string, text: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && readFileSync(join(entry.parentPath, entry.name), 'latin1').includes(text),
    )
    .map((entry) => entry.name);
}

describe('interop: a new AuthorizationKey sent to a charger becomes its password (whitepaper A01)', () => {
  const interop = useInterop();
  const temporary = useTempDirectory();

  it('the old password works until the charger reconnects with the new one, then only the new one, also after a restart', async () => {
    const dataDirectory = temporary();
    const passwords = PasswordBook.parse(`CP-1 ${OLD}`);
    const settings = {
      securityProfile: 1 as const,
      passwords,
      dataDirectory,
      unknownChargePoints: 'reject' as const,
    };
    const cs = await interop.harness().centralSystem(settings);
    const { cp, clock } = interop.simulator(cs, 'CP-1', { password: OLD });
    await cp.connect();
    assert.equal(await dial(cs, 'CP-1', NEW), 401, 'not before the charger accepted it');
    // A value the charger refuses (not 16 to 20 bytes in hexadecimal, A00.FR.205) changes nothing.
    const refused = await roundTrip(cs, cp, 'ChangeConfiguration', {
      key: 'AuthorizationKey',
      value: 'not hex at all!!',
    });
    assert.equal(refused.status, 'Rejected');

    const disconnected = waitFor(cp as unknown as EventEmitter, 'disconnected');
    // What the ocpp-command node sends for a flow's msg.payload { key: 'AuthorizationKey', value }.
    assert.deepEqual(
      await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'AuthorizationKey', value: NEW }),
      {
        status: 'Accepted',
      },
    );
    await disconnected;
    assert.equal(await dial(cs, 'CP-1', OLD), 101, 'the old password still works until the new one is used');

    const reconnected = waitFor(cs, 'connect');
    clock.advance(1000);
    await reconnected;
    assert.equal(cp.configuration.get('AuthorizationKey'), NEW);
    assert.equal(
      await dial(cs, 'CP-1', OLD),
      401,
      'once the charger used the new password, the old one is refused',
    );
    assert.deepEqual(
      filesContaining(dataDirectory, NEW),
      [],
      'the journal keeps digests, never the password',
    );
    assert.doesNotMatch(JSON.stringify(cs.chargePoints()), /sha256|salt/, 'no digest in the listings');

    // Durable: a restarted central system (same data, same password lines) takes only the new one.
    const port = cs.port;
    await cs.stop();
    const again = await interop.harness().centralSystem({ ...settings, port });
    const back = waitFor(again, 'connect');
    clock.advance(60_000);
    const [admitted] = (await back) as unknown as [{ chargePointId: string }];
    assert.equal(admitted.chargePointId, 'CP-1', 'the charger got in with its new password');
    await cp.close();
    assert.equal(await dial(again, 'CP-1', OLD), 401);
  });

  it('an operator who edits the charger’s password line after the change has the last word', async () => {
    const dataDirectory = temporary();
    const settings = { securityProfile: 1 as const, dataDirectory, unknownChargePoints: 'reject' as const };
    const cs = await interop
      .harness()
      .centralSystem({ ...settings, passwords: PasswordBook.parse(`CP-1 ${OLD}`) });
    const { cp, clock } = interop.simulator(cs, 'CP-1', { password: OLD });
    await cp.connect();
    const reconnected = waitFor(cs, 'connect');
    // The charger drops its connection after its answer; its reconnect timer runs on the test's
    // clock from then, so the clock moves only once it has dropped (as in the test above).
    const disconnected = waitFor(cp as unknown as EventEmitter, 'disconnected');
    await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'AuthorizationKey', value: NEW });
    await disconnected;
    clock.advance(1000);
    await reconnected;
    await cp.close();
    await cs.stop();
    const edited = 'a-new-line-the-operator-typed-0001';
    const again = await interop.harness().centralSystem({
      ...settings,
      port: cs.port,
      passwords: PasswordBook.parse(`CP-1 ${edited}`),
    });
    assert.equal(await dial(again, 'CP-1', edited), 101);
    assert.equal(await dial(again, 'CP-1', NEW), 401);
  });
});
