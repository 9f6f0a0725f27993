/**
 * The last update as the load manager reports it: the problem and the allocation it made (what
 * the reasons and the summary explain), the summary built from them when someone looks (most
 * updates change nothing visible), and when the next summary goes out: after an update that
 * changed a set-point or what counts as stale, or that followed a command from the flow (a mode,
 * a plan: the page that sent it shows it at once), else every `control.summaryIntervalMs`.
 */
import type { AllocationProblem, ConnectorAllocation } from '../allocation/allocate';
import type { Site } from '../site/model';
import type { Reason } from '../words';
import { buildSummary, type ExplainContext, reasonsInForce, type SummaryInputs } from './explain';
import type { SiteSummary } from './summary';

/** What the report reads of the load manager around it. */
export interface LastUpdateHost {
  site(): Site;
  now(): number;
  explainContext(): ExplainContext;
  /** The summary's parts the other stages own, as they are now. */
  summaryInputs(now: number): Omit<SummaryInputs, 'problem' | 'reasonOf'>;
  /** Whether anyone listens for summaries. */
  listening(): boolean;
  send(summary: SiteSummary): void;
}

export class LastUpdate {
  private problem: AllocationProblem | undefined;
  /** The last update's allocation (what the reasons explain), and the site it was made for. */
  private allocation: { site: Site; connectors: readonly ConnectorAllocation[] } | undefined;
  /** The summary of the last update, once someone looked. */
  private summary: SiteSummary | undefined;
  private sentAtMs: number | undefined;
  /** A command came since the last summary went out: the next update's summary goes out. */
  private commanded = false;

  constructor(private readonly host: LastUpdateHost) {}

  /** Whether an update has run. */
  get ran(): boolean {
    return this.problem !== undefined;
  }

  /** What an update allocated, for the site it ran on. */
  allocated(site: Site, problem: AllocationProblem, connectors: readonly ConnectorAllocation[]): void {
    this.problem = problem;
    this.allocation = { site, connectors };
  }

  /**
   * The end of an update: its summary is built when someone looks (`latest`), and sent now when
   * the update `changed` something visible or the summary interval (`intervalMs`) has passed.
   */
  finished(now: number, changed: boolean, intervalMs: number): void {
    this.summary = undefined;
    const due = this.sentAtMs === undefined || now - this.sentAtMs >= intervalMs;
    if (changed || this.commanded || due) this.send();
  }

  /** A command from the flow changed what the summary says: the next update sends it. */
  command(): void {
    this.commanded = true;
  }

  /** Sends the latest summary (when anyone listens); the interval counts from now. */
  send(): void {
    this.sentAtMs = this.host.now();
    this.commanded = false;
    if (!this.host.listening()) return;
    this.host.send(this.latest());
  }

  /** The summary of the last update. */
  latest(): SiteSummary {
    this.summary ??= this.build();
    return this.summary;
  }

  /** Why each set-point in force is what it is (report/explain.ts), from the last update's allocation. */
  reasons(): (k: number) => Reason {
    const allocation = this.allocation;
    return reasonsInForce(
      this.host.explainContext(),
      allocation?.site === this.host.site() ? allocation : undefined,
    );
  }

  private build(): SiteSummary {
    const now = this.host.now();
    const inputs = { ...this.host.summaryInputs(now), problem: this.problem, reasonOf: this.reasons() };
    return buildSummary(this.host.explainContext(), inputs, now);
  }
}
