#!/usr/bin/env node
import { main } from '../sim/cli';

void main();
