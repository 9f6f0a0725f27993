#!/usr/bin/env node
import { main } from '../lib/sim/modbus-cli';

void main();
