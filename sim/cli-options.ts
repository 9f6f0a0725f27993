/** `ampflow-sim`'s options (sim/cli-args.ts reads them; their meaning: HELP there). */

// parseArgs's option table: every command-line tool has one of this shape (deliberately alike).
export const CLI_OPTIONS = {
  url: { type: 'string' },
  ocpp: { type: 'string', multiple: true },
  count: { type: 'string' },
  prefix: { type: 'string' },
  identity: { type: 'string', multiple: true },
  first: { type: 'string' },
  password: { type: 'string' },
  connectors: { type: 'string' },
  phases: { type: 'string' },
  'max-current': { type: 'string' },
  'meter-interval': { type: 'string' },
  heartbeat: { type: 'string' },
  'session-minutes': { type: 'string' },
  'gap-minutes': { type: 'string' },
  seed: { type: 'string' },
  'id-tag': { type: 'string', multiple: true },
  spread: { type: 'string' },
  quirk: { type: 'string', multiple: true },
  vendor: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;
