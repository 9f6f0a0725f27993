import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  ANSWER_WORDS,
  COMMAND_WORDS,
  english,
  given,
  REASON_WORDS,
  type Reason,
  type Said,
  STATUS_WORDS,
  say,
  sayReason,
  wordsCatalogue,
} from '../../../lib/dlm/words';
import {
  benderMaster,
  climkitZone,
  dualCharger,
  pvHome,
  runScenario,
  type Scenario,
} from '../../../sim/site-scenarios';
import { reasonWords } from '../../support/read-reason';
import { englishIn, everyKey, namesOf } from '../../support/words';
import { home, wallbox } from './pv-home';
import type { harness } from './support';

const root = join(__dirname, '..', '..', '..');
const CATALOGUE = REASON_WORDS as Readonly<Record<string, { en: string; de: string }>>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** lib/dlm's files but the catalogue, with their text. */
function stageSources(): { file: string; text: string }[] {
  const dlm = join(root, 'lib', 'dlm');
  return tsFiles(dlm)
    .filter((path) => path !== join(dlm, 'words.ts'))
    .map((path) => ({ file: relative(root, path), text: readFileSync(path, 'utf8') }));
}

/** The argument text of each `say(` call in `text` (to its closing parenthesis). */
function sayCalls(text: string): string[] {
  const calls: string[] = [];
  for (const match of text.matchAll(/\bsay\(/g)) {
    let depth = 1;
    let at = (match.index ?? 0) + match[0].length;
    const start = at;
    while (at < text.length && depth > 0) {
      const c = text[at];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      at++;
    }
    calls.push(text.slice(start, at - 1));
  }
  return calls;
}

/** The words of a call's string literals: quoted text and a template's text outside `${…}`. */
function literalWords(call: string): string[] {
  const literals = [...call.matchAll(/'([^'\\]*)'|`([^`]*)`/g)].map((m) =>
    (m[1] ?? m[2] ?? '').replace(/\$\{[^}]*\}/g, ' '),
  );
  // The first is the key; a nested part's key is no sentence either.
  return literals.slice(1).filter((literal) => !(literal in CATALOGUE));
}

function partsWithoutKey(said: readonly Said[]): string[] {
  return said.flatMap((part) => [
    ...(part.key === 'text' || (!part.key.startsWith('status.') && !CATALOGUE[part.key]) ? [part.key] : []),
    ...Object.values(part.params ?? {}).flatMap((value) =>
      typeof value === 'string' ? [] : partsWithoutKey(value),
    ),
  ]);
}

/** Every reason a summary carries, with its text: the words must be that text, and German without English. */
function faultsOf(texts: Map<string, Reason>, names: readonly string[] = []): string[] {
  return [...texts].flatMap(([text, said]) => {
    const german = sayReason(said, 'de');
    // The names the site gives its circuits are the user's words ('house connection'), not ampflow's.
    const left = englishIn(names.reduce((rest, name) => rest.split(name).join(' '), german));
    return [
      ...(english(said) !== text ? [`"${text}" worded as "${english(said)}"`] : []),
      ...partsWithoutKey(said).map((key) => `"${text}": part "${key}" not in the catalogue`),
      ...(left.length ? [`"${german}" has ${left.join(', ')}`] : []),
    ];
  });
}

describe('the reasons in message keys and parameters, in English and German (issue 48)', () => {
  it('has English and German with the same parameters for every key, the German without an English word', () => {
    const faults: string[] = [];
    for (const [key, { en, de }] of Object.entries(CATALOGUE)) {
      if (namesOf(en).join() !== namesOf(de).join())
        faults.push(`${key}: {${namesOf(en)}} in English, {${namesOf(de)}} in German`);
    }
    for (const said of everyKey()) {
      const german = sayReason([said], 'de');
      const left = englishIn(german);
      if (left.length > 0) faults.push(`${said.key}: "${german}" has English words ${left.join(', ')}`);
      if (/\{\w+\}/.test(german) || /\{\w+\}/.test(english([said])))
        faults.push(`${said.key}: a parameter left unfilled`);
    }
    for (const [status, words] of Object.entries(STATUS_WORDS)) {
      const left = englishIn(words.de).filter((word) => word !== status.toLowerCase());
      if (left.length > 0) faults.push(`status ${status}: "${words.de}" has ${left.join(', ')}`);
    }
    assert.deepEqual(faults, []);
  });

  it("has German for every command's answer and notice on the dashboard, without an English word, served with the reasons", () => {
    const faults: string[] = [];
    for (const [table, words] of [
      ['answer', ANSWER_WORDS],
      ['command', COMMAND_WORDS],
    ] as const) {
      for (const [key, { en, de }] of Object.entries(words)) {
        if (namesOf(en).join() !== namesOf(de).join())
          faults.push(`${table}.${key}: not the same parameters`);
        const left = englishIn(de.replace(/\{\w+\}/g, ' '));
        if (left.length > 0) faults.push(`${table}.${key}: "${de}" has ${left.join(', ')}`);
        if (wordsCatalogue().reasons.de[`${table}.${key}`] !== de) faults.push(`${table}.${key}: not served`);
      }
    }
    assert.deepEqual(faults, []);
    assert.equal(wordsCatalogue().reasons.en['answer.Accepted'], 'Accepted');
    assert.equal(wordsCatalogue().reasons.en['command.answered'], '{charger}: {action} {status}');
  });

  it('makes a reason only from a catalogue key with its parameters (checked by the compiler)', () => {
    // Each line below fails to type-check without its directive: tsc -p tsconfig.test.json runs in CI.
    // @ts-expect-error a key not in the catalogue
    say('noSuchReason');
    // @ts-expect-error a parameter missing
    say('limited', {});
    // @ts-expect-error a reason given as an English string
    say('limited', { why: 'the sky is grey' });
    // @ts-expect-error a parameter the template does not have
    say('modeOff', { why: [] });
    assert.deepEqual(say('limited', { why: [say('pvSurplus')] }), {
      key: 'limited',
      params: { why: [{ key: 'pvSurplus' }] },
    });
    // Numbers as a template literal prints them, so the English is what it was.
    assert.equal(english([say('holding', { amps: 7.8, minChangeA: 1 })]), 'holding 7.8 A (change below 1 A)');
  });

  it('has no reason built outside the catalogue in lib/dlm: no part without say(), no English in its parameters, given() only for texts from outside', () => {
    const faults: string[] = [];
    const givenAt: string[] = [];
    const used = new Set<string>();
    for (const { file, text } of stageSources()) {
      // A part made by hand (`{ key: ... }`) or cast would bypass the catalogue's types.
      if (/\{\s*key:\s*['`]/.test(text)) faults.push(`${file}: a reason's part built by hand`);
      if (/\bas\s+(readonly\s+)?(Said|Reason)\b/.test(text)) faults.push(`${file}: cast to a reason`);
      for (const call of sayCalls(text)) {
        const left = literalWords(call).flatMap((literal) => englishIn(literal));
        if (left.length > 0)
          faults.push(`${file}: say(${call.slice(0, 60)}…) has English ${left.join(', ')}`);
      }
      for (const match of text.matchAll(/'(\w+)'/g)) used.add(match[1] ?? '');
      // (site/ has a `given` of its own: only the catalogue's counts.)
      const imports = /import \{[^}]*\bgiven\b[^}]*\} from '[./]+\/words'/.test(text);
      const calls = imports ? (text.match(/\bgiven\(/g)?.length ?? 0) : 0;
      if (calls > 0) givenAt.push(`${file} ${calls}`);
    }
    // The texts that come from outside the load manager, shown as they came: a site limit's
    // reason sent by a command, a meter node's stale notice of a flow's own (and a Modbus error
    // without its data: from an older meter node, or an error whose text is all there is; a
    // decoder's detail of an unusable answer), lib/profiles' limit failure, JSONata's message
    // (compiling, evaluating), the invariant's report of a bug.
    assert.deepEqual(givenAt.sort(), [
      'lib/dlm/control/policy.ts 1',
      'lib/dlm/evidence/circuit-view.ts 4',
      'lib/dlm/evidence/uncontrolled.ts 1',
      'lib/dlm/modes/expressions.ts 2',
      'lib/dlm/report/explain.ts 1',
    ]);
    assert.deepEqual(faults, []);
    // Every key has a producer (namesAndMore is words.ts's own sayNames; text is given's).
    const unused = Object.keys(CATALOGUE).filter(
      (key) => !used.has(key) && key !== 'namesAndMore' && key !== 'text',
    );
    assert.deepEqual(unused, []);
  });

  it('says a composed reason in German with decimal commas', () => {
    const reason = [
      say('fallback', {
        why: [say('isStale', { source: [say('meterOf', { name: 'm', circuit: 'house' })], s: 180 })],
        whatList: [say('otherTakenAs', { amps: '10/10/10' }), say('perConnector', { amps: 6 })],
      }),
      say('paused', { why: [say('phaseFull', { circuit: 'house', phase: 1 })], amps: 6 }),
      say('carMinimum', { amps: 7.8, why: [say('learnedStopped', { amps: 7.2 })] }),
    ];
    assert.equal(
      english(reason),
      'fallback: meter "m" of house is stale (180 s), other loads taken as 10/10/10 A, 6 A per connector; paused: house L1 is full for the minimum 6 A; the car\'s minimum 7.8 A (learned: it stopped at 7.2 A)',
    );
    assert.equal(
      sayReason(reason, 'de'),
      'Ersatzwerte: Zähler "m" von house ist veraltet (180 s), übrige Verbraucher mit 10/10/10 A angesetzt, 6 A je Anschluss; pausiert: house L1 ist voll für das Minimum von 6 A; Minimum des Fahrzeugs 7,8 A (gelernt: es hat bei 7,2 A gestoppt)',
    );
    // A text from outside stays as it came, also its numbers.
    assert.equal(sayReason([given('§14a 4.2 kW')], 'de'), '§14a 4.2 kW');
    assert.equal(sayReason([say('namesAndMore', { names: 'A, B, C', n: 3 })], 'de'), 'A, B, C und 3 weitere');
  });

  it('knows every reason the docs print', () => {
    const docs = ['docs/load-manager.md', 'docs/commissioning/home-pv.md']
      .map((file) => readFileSync(join(root, file), 'utf8'))
      .join('\n');
    // The reasons of the table "Reading why this current" and the guide's `1: 6 A, ramping up to 7.8 A`.
    const table = docs.slice(
      docs.indexOf('## Reading "why this current"'),
      docs.indexOf('A circuit whose meter is blind'),
    );
    const printed = [...table.matchAll(/^\| `([^`|]+)` \|/gm)].map((m) => m[1] ?? '');
    const sidebar = [...docs.matchAll(/`\d: [\d.]+ A, ([^`]+)`/g)].map((m) => m[1] ?? '');
    const reasons = [...printed, ...sidebar]
      .map((r) => r.replace(/\s+/g, ' '))
      .filter((r) => !r.includes('…'));
    assert.ok(reasons.length >= 12, `${reasons.length} reasons found in the docs`);
    const unknown = reasons.flatMap((reason) =>
      partsWithoutKey(reasonWords(reason)).map(() => `${reason}: not in the catalogue`),
    );
    assert.deepEqual(unknown, []);
  });

  describe('what a home PV load manager says, in German', () => {
    let h: ReturnType<typeof harness>;
    afterEach(() => h?.stop());

    it('has keys and German for every reason a pv car goes through (sun, cloud, fast, off), the same as its English', () => {
      const setup = home([wallbox('WB-1'), wallbox('WB-2', { mode: 'minpv' })]);
      h = setup.h.start();
      const texts = new Map<string, Reason>();
      h.manager.on('setPoint', (setPoint, words) => texts.set(setPoint.reason, words));
      h.manager.on('summary', (summary) => {
        for (const c of summary.connectors) if (c.reason) texts.set(c.reason, c.reasonWords ?? []);
      });
      h.run(5_000);
      h.plugIn('WB-1/1');
      setup.world.pvW = 3000;
      h.run(30_000);
      setup.world.pvW = 9000;
      h.run(150_000);
      h.plugIn('WB-2/1');
      h.run(60_000);
      setup.world.pvW = 300;
      h.run(120_000);
      setup.world.pvW = 9000;
      h.run(120_000);
      h.manager.command({ type: 'mode', chargePointId: 'WB-1', mode: 'fast' });
      h.run(30_000);
      h.manager.command({ type: 'mode', chargePointId: 'WB-1', mode: 'off' });
      h.run(30_000);
      h.unplug('WB-2/1');
      h.run(10_000);
      assert.ok(texts.size >= 8, [...texts.keys()].join('\n'));
      assert.deepEqual(faultsOf(texts), []);
    });
  });

  it('has keys and German for every reason and problem of the sample sites in a closed loop (car park, Bender, dual charger, PV home)', function () {
    this.timeout(60_000);
    const texts = new Map<string, Reason>();
    const scenarios: [string, Scenario][] = [
      // Its meter drops out from 10 to 20 min: the fallback's words.
      [
        'climkit',
        climkitZone({
          fallback: { otherLoadA: 25, connectorLimitA: 6 },
          dropout: { fromMs: 10 * 60_000, toMs: 20 * 60_000 },
        }),
      ],
      ['bender', benderMaster()],
      ['dual', dualCharger()],
      // At noon: the sun's words.
      ['pv', { ...pvHome(), startOfDayMs: 12 * 3_600_000 }],
    ];
    for (const [, scenario] of scenarios) {
      let second = 0;
      runScenario(scenario, {
        durationMs: 25 * 60_000,
        onStep: (_sim, manager) => {
          if (++second % 30 !== 0) return;
          const summary = manager.summary();
          for (const c of summary.connectors) if (c.reason) texts.set(c.reason, c.reasonWords ?? []);
          summary.problems.forEach((problem, i) => {
            texts.set(problem, summary.problemWords?.[i] ?? []);
          });
          for (const circuit of summary.circuits)
            if (circuit.fallback) texts.set(circuit.fallback, circuit.fallbackWords ?? []);
        },
      });
    }
    assert.ok(texts.size >= 10, [...texts.keys()].join('\n'));
    if (process.env.WORDS_LIST) console.log([...texts.keys()].join('\n'));
    const names = scenarios.flatMap(([, scenario]) =>
      scenario.site.circuits.flatMap((circuit) => (circuit.name ? [circuit.name] : [])),
    );
    assert.deepEqual(faultsOf(texts, names), []);
  });
});
