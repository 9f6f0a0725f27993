import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useMade } from './hooks';

/** PEM files of a small PKI made with openssl for one test suite; `remove()` deletes them. */
export interface TestPki {
  directory: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Paths of the same files, for settings that take a file path. */
  paths: { caCert: string; serverCert: string; serverKey: string };
  /** A client certificate signed by this CA (or by a stranger CA), CN and O as given. */
  clientCertificate(
    commonName: string,
    organization: string,
    options?: { signedByStranger?: boolean },
  ): {
    cert: string;
    key: string;
  };
  remove(): void;
}

/** Runs openssl in `cwd` with the words of `command` as arguments, and `-subj subject` if given. */
function openssl(cwd: string, command: string, subject?: string): void {
  const args = [...command.split(' '), ...(subject === undefined ? [] : ['-subj', subject])];
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const NEW_EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

function makeCa(directory: string, name: string): void {
  openssl(
    directory,
    `req -x509 ${NEW_EC_KEY} -days 2 -keyout ${name}.key -out ${name}.crt`,
    `/CN=${name}/O=ampflow test`,
  );
}

function sign(directory: string, ca: string, name: string, subject: string, extensions: string): void {
  openssl(directory, `req ${NEW_EC_KEY} -keyout ${name}.key -out ${name}.csr`, subject);
  writeFileSync(join(directory, `${name}.ext`), extensions);
  openssl(
    directory,
    `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 2 -extfile ${name}.ext -out ${name}.crt`,
  );
}

/** Makes a CA, a server certificate for 127.0.0.1/localhost, and a second "stranger" CA. */
export function makeTestPki(): TestPki {
  const directory = mkdtempSync(join(tmpdir(), 'ampflow-pki-'));
  makeCa(directory, 'ca');
  makeCa(directory, 'stranger');
  sign(
    directory,
    'ca',
    'server',
    '/CN=localhost/O=ampflow test',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  const read = (file: string) => readFileSync(join(directory, file), 'utf8');
  let clients = 0;
  return {
    directory,
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    paths: {
      caCert: join(directory, 'ca.crt'),
      serverCert: join(directory, 'server.crt'),
      serverKey: join(directory, 'server.key'),
    },
    clientCertificate(commonName, organization, options = {}) {
      const name = `client${clients++}`;
      sign(
        directory,
        options.signedByStranger ? 'stranger' : 'ca',
        name,
        `/CN=${commonName}/O=${organization}`,
        'extendedKeyUsage=clientAuth\n',
      );
      return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
    },
    remove() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A test PKI for the mocha suite it is called in: made before the suite's tests (openssl takes a
 * few seconds), removed after them. Returns a getter, valid inside tests.
 */
export function useTestPki(): () => TestPki {
  return useMade('all', makeTestPki, async (pki) => pki.remove(), {
    missing: 'the test PKI is made in a before hook: use it inside a test',
    timeoutMs: 20000,
  });
}
