import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The Node-RED install the node and e2e tests run against: the devDependency (Node-RED 4.1) by
 * default, or the one named by AMPFLOW_NODE_RED_DIR (the Node-RED 5 leg of .ci/run).
 */
export function nodeRedDir(): string {
  const fromEnv = process.env.AMPFLOW_NODE_RED_DIR;
  return fromEnv ? fromEnv : dirname(require.resolve('node-red/package.json'));
}

export function nodeRedVersion(): string {
  return JSON.parse(readFileSync(join(nodeRedDir(), 'package.json'), 'utf8')).version;
}

/** The module `node-red-node-test-helper` loads as the runtime (node-red's `main`). */
export function nodeRedRuntimePath(): string {
  return require.resolve(nodeRedDir());
}

/** Node-RED's command-line entry, as `npm start` and the e2e tests run it. */
export function nodeRedCli(): string {
  return join(nodeRedDir(), 'red.js');
}
