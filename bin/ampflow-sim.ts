#!/usr/bin/env node
import { main } from '../lib/sim/cli';

void main();
