#!/usr/bin/env node
import { runCentralSystemCli } from '../lib/ocpp/cli';

void runCentralSystemCli(process.argv.slice(2));
