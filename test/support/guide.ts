import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo';

/** One row of a guide's table of statuses: after which step, where, and the text shown. */
export interface GuideStatus {
  step: number;
  /** `load manager *zone 1 (63 A)*`, `meter *common-areas*`, `charging-profile node`, `Chargers sidebar, PARK-01`. */
  where: string;
  status: string;
}

/** A commissioning guide's section `No hardware yet: …`, read as a test follows it. */
export interface GuideSimulation {
  /** The commands of its ```sh blocks, one per line, in order. */
  commands: string[];
  /** The lines of its plain ``` blocks (typed into the meter simulator), in order. */
  typed: string[];
  /** Its table of the statuses each step shows (| Step | Where | Status |). */
  statuses: GuideStatus[];
}

const inline = (cell: string) => /^`([^`]+)`$/.exec(cell.trim())?.[1];

/** Reads docs/commissioning/`name`.md's simulation section; throws when a part is missing. */
export function guideSimulation(name: string): GuideSimulation {
  const file = join(repoRoot, 'docs', 'commissioning', `${name}.md`);
  const text = readFileSync(file, 'utf8');
  const start = text.search(/^## No hardware yet/m);
  if (start < 0) throw new Error(`${file}: no section "## No hardware yet"`);
  const rest = text.slice(start + 3);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks = [...section.matchAll(/^ *```(\w*)\n([\s\S]*?)^ *```/gm)];
  const linesOf = (body: string) =>
    body
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  const commands = blocks.filter((b) => b[1] === 'sh').flatMap((b) => linesOf(b[2] ?? ''));
  const typed = blocks.filter((b) => b[1] === '').flatMap((b) => linesOf(b[2] ?? ''));
  const statuses: GuideStatus[] = [];
  for (const line of section.split('\n')) {
    const cells = /^\|(.*)\|$/.exec(line.trim())?.[1]?.split('|');
    if (cells?.length !== 3) continue;
    const [step, where, status] = cells.map((cell) => cell.trim()) as [string, string, string];
    if (!/^\d+$/.test(step)) continue; // the header and its rule
    const shown = inline(status);
    if (shown === undefined) throw new Error(`${file}: status "${status}" is not one \`code\` span`);
    statuses.push({ step: Number(step), where, status: shown });
  }
  if (commands.length === 0 || statuses.length === 0)
    throw new Error(`${file}: the simulation section has no commands or no table of statuses`);
  return { commands, typed, statuses };
}
