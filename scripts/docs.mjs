// `npm run docs`: writes the parts of the manual that the code already says, so the two never
// disagree: docs/nodes/<type>.md, one page per node, from the help text the editor shows
// (nodes/locales/en-US/<type>.html), and the list of meters in docs/meters.md from the shipped
// device profiles (dist/lib: run `npm run build` first).
// `--check` writes nothing and exits 1 naming every page that differs (the docs test runs it).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const helpDir = join(root, 'nodes', 'locales', 'en-US');
const outDir = join(root, 'docs', 'nodes');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The help HTML as a tree: { tag, attrs, children } for elements, strings for text. */
function parse(html) {
  const rootNode = { tag: 'root', attrs: '', children: [] };
  const stack = [rootNode];
  const tokens = html.split(/(<\/?[a-zA-Z][^>]*>)/);
  for (const token of tokens) {
    const tag = /^<(\/?)([a-zA-Z0-9]+)([^>]*)>$/.exec(token);
    if (!tag) {
      if (token) stack.at(-1).children.push(token);
      continue;
    }
    const [, closing, name, attrs] = tag;
    const lower = name.toLowerCase();
    if (closing) {
      const at = stack.findLastIndex((node) => node.tag === lower);
      if (at > 0) stack.length = at;
      continue;
    }
    const node = { tag: lower, attrs, children: [] };
    stack.at(-1).children.push(node);
    if (lower !== 'br' && !attrs.endsWith('/')) stack.push(node);
  }
  return rootNode;
}

const entities = { lt: '<', gt: '>', amp: '&', quot: '"', nbsp: ' ', '#39': "'" };
const decode = (text) => text.replace(/&(lt|gt|amp|quot|nbsp|#39);/g, (_, name) => entities[name]);

/** Inline Markdown of a node's children, whitespace collapsed. */
function inline(node) {
  return node.children
    .map((child) => {
      if (typeof child === 'string') return decode(child).replace(/\s+/g, ' ');
      const text = inline(child);
      switch (child.tag) {
        case 'code':
          return `\`${text.trim()}\``;
        case 'b':
        case 'strong':
          return `**${text.trim()}**`;
        case 'i':
        case 'em':
          return `*${text.trim()}*`;
        case 'a':
          return `[${text.trim()}](${/href="([^"]*)"/.exec(child.attrs)?.[1] ?? ''})`;
        case 'br':
          return '\n';
        case 'span':
          return /property-type/.test(child.attrs) ? ` *${text.trim()}*` : text;
        default:
          return text;
      }
    })
    .join('');
}

/** Block Markdown of a node's children, one block per paragraph, list or heading. */
function blocks(node, indent = '') {
  const out = [];
  for (const child of node.children) {
    if (typeof child === 'string') {
      const text = decode(child).replace(/\s+/g, ' ').trim();
      if (text) out.push(`${indent}${text}`);
      continue;
    }
    switch (child.tag) {
      case 'h3':
        out.push(`## ${inline(child).trim()}`);
        break;
      case 'h4':
        out.push(`### ${inline(child).trim()}`);
        break;
      case 'p':
        // The help's link to this very page is left out of the page.
        if (!/ampflow-manual/.test(child.attrs)) out.push(`${indent}${inline(child).trim()}`);
        break;
      case 'ul':
      case 'ol': {
        const items = child.children.filter((c) => typeof c !== 'string' && c.tag === 'li');
        out.push(items.map((li, i) => item(li, child.tag === 'ol' ? `${i + 1}. ` : '- ', indent)).join('\n'));
        break;
      }
      case 'dl': {
        const lines = [];
        for (const part of child.children) {
          if (typeof part === 'string') continue;
          if (part.tag === 'dt') {
            // The property's name in bold, its type (span.property-type) in italics after it.
            const type = part.children.find((c) => typeof c !== 'string' && /property-type/.test(c.attrs));
            const name = inline({ ...part, children: part.children.filter((c) => c !== type) }).trim();
            lines.push(`${indent}- **${name}**${type ? ` *${inline(type).trim()}*` : ''}`);
          } else if (part.tag === 'dd') {
            const [first, ...rest] = blocksOf(part, `${indent}  `);
            lines[lines.length - 1] += `: ${(first ?? '').trim()}`;
            for (const block of rest) lines.push(`\n${block}`);
          }
        }
        out.push(lines.join('\n'));
        break;
      }
      default:
        out.push(...blocks(child, indent));
    }
  }
  return out;
}

/** A dd's or li's content: its inline text first, then any nested blocks. */
function blocksOf(node, indent) {
  const hasBlocks = node.children.some(
    (c) => typeof c !== 'string' && ['p', 'ul', 'ol', 'dl'].includes(c.tag),
  );
  if (!hasBlocks) return [`${indent}${inline(node).trim()}`];
  const leading = { ...node, children: [] };
  const rest = { ...node, children: [] };
  for (const c of node.children) {
    if (rest.children.length === 0 && (typeof c === 'string' || !['p', 'ul', 'ol', 'dl'].includes(c.tag)))
      leading.children.push(c);
    else rest.children.push(c);
  }
  const head = inline(leading).trim();
  return [...(head ? [`${indent}${head}`] : []), ...blocks(rest, indent)];
}

function item(li, marker, indent) {
  const [first, ...rest] = blocksOf(li, `${indent}  `);
  return [`${indent}${marker}${(first ?? '').trim()}`, ...rest.map((block) => `\n${block}`)].join('\n');
}

function page(type) {
  const html = readFileSync(join(helpDir, `${type}.html`), 'utf8');
  const help = /<script type="text\/html" data-help-name="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!help) throw new Error(`${type}.html has no help script`);
  // The palette label is the English catalog's (the editor asks it through this._).
  const catalog = JSON.parse(readFileSync(join(helpDir, `${type}.json`), 'utf8'));
  const label = catalog[type]?.paletteLabel;
  const title = label ? `${label} (\`${type}\`)` : `\`${type}\` (configuration node)`;
  return `# ${title}

<!-- Generated by \`npm run docs\` from nodes/locales/en-US/${type}.html, the help the editor
shows for this node: edit that file, then run the command. -->

${blocks(parse(help)).join('\n\n')}
`;
}

/** One section per shipped device profile, between the markers of docs/meters.md. */
function metersSection() {
  const { SHIPPED_PROFILES } = require(join(root, 'dist', 'lib', 'modbus', 'profiles.js'));
  const serial = (s) => `${s.baudRate} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
  return SHIPPED_PROFILES.map((profile) => {
    const d = profile.defaults ?? {};
    const defaults = [
      d.unitId !== undefined ? `unit id ${d.unitId}` : undefined,
      d.tcpPort !== undefined ? `TCP port ${d.tcpPort}` : undefined,
      d.serial ? `serial ${serial(d.serial)}` : undefined,
      d.minPollIntervalMs ? `polled at most every ${d.minPollIntervalMs / 1000} s` : undefined,
    ].filter(Boolean);
    const lines = [
      `### ${profile.name}`,
      '',
      `Choose *${profile.name}* in the meter node (profile \`${profile.id}\`). Models: ${profile.models.join('; ')}.` +
        (defaults.length ? ` Defaults: ${defaults.join(', ')}.` : ''),
      profile.verified
        ? `Register map checked against ${profile.sources.length} sources (named in the profile, \`lib/modbus/profiles/\`); read from the Modbus simulator over Modbus TCP in the tests.`
        : `**Unverified map**: no register list of this model was found; compare the first readings with the meter's display. Read from the Modbus simulator in the tests.`,
    ];
    if (profile.notes?.length) lines.push('', ...profile.notes.map((note) => `- ${note}`));
    return lines.join('\n');
  }).join('\n\n');
}

const METERS_BEGIN = '<!-- meters:begin (written by `npm run docs` from the shipped device profiles) -->';
const METERS_END = '<!-- meters:end -->';

function metersPage() {
  const file = join(root, 'docs', 'meters.md');
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf(METERS_BEGIN);
  const end = text.indexOf(METERS_END);
  if (begin < 0 || end < begin) throw new Error('docs/meters.md has no meters markers');
  return {
    file,
    text: `${text.slice(0, begin + METERS_BEGIN.length)}\n\n${metersSection()}\n\n${text.slice(end)}`,
  };
}

const check = process.argv.includes('--check');
const types = Object.keys(pkg['node-red'].nodes);
const differing = [];
if (!check) mkdirSync(outDir, { recursive: true });
for (const type of types) {
  const file = join(outDir, `${type}.md`);
  const text = page(type);
  if (check) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) differing.push(file);
  } else writeFileSync(file, text);
}
const meters = metersPage();
if (check) {
  if (readFileSync(meters.file, 'utf8') !== meters.text) differing.push(meters.file);
} else writeFileSync(meters.file, meters.text);
const stale = existsSync(outDir)
  ? readdirSync(outDir).filter((f) => f.endsWith('.md') && !types.includes(f.slice(0, -3)))
  : [];
if (check && (differing.length || stale.length)) {
  for (const file of differing)
    console.error(
      `docs: ${file} differs from what the code says (the node's help text, the device profiles)`,
    );
  for (const file of stale) console.error(`docs: docs/nodes/${file} is no node of the package`);
  console.error('docs: run `npm run docs` and commit the pages');
  process.exit(1);
}
if (!check)
  console.log(`docs: ${types.length} node pages written to docs/nodes/, the meters to docs/meters.md`);
