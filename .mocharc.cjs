// Mocha settings shared by `npm test` and by `npx mocha <file>` (one test file). The spec globs
// live in package.json's test script, because mocha adds command-line files to a `spec` set here.
// TypeScript is loaded with tsx (esbuild), which needs no compiler API and so works with TypeScript 7.
module.exports = {
  require: ['tsx/cjs', './test/support/leaks.ts'],
  extension: ['ts'],
  'forbid-only': true,
  'forbid-pending': true,
  timeout: 10000,
  reporter: 'spec',
  exit: false,
};
