#!/usr/bin/env node
import { main } from '../lib/sim/demo-site';

void main();
