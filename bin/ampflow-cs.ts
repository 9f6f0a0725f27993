#!/usr/bin/env node
import { runCertsCli } from '../lib/ocpp/certs';
import { runCentralSystemCli } from '../lib/ocpp/cli';
import { upstreamCli } from '../lib/upstream/cli';

const argv = process.argv.slice(2);
if (argv[0] === 'certs') {
  process.exitCode = runCertsCli(argv.slice(1), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
} else void runCentralSystemCli(argv, upstreamCli);
