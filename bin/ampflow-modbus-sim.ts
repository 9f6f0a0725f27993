#!/usr/bin/env node
import { main } from '../sim/modbus-cli';

void main();
