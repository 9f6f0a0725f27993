#!/usr/bin/env node
import { main } from '../sim/demo-site';

void main();
