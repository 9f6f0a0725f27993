#!/usr/bin/env node
import { runCentralSystemCli } from '../lib/ocpp/cli';
import { upstreamCli } from '../lib/upstream/cli';

void runCentralSystemCli(process.argv.slice(2), upstreamCli);
