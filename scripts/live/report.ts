/** The live test's phases, timed, and their Markdown report. */

export interface PhaseResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export interface PhaseOptions<T> {
  /** A failure stops the run (later phases need this one): rethrown after it is recorded. */
  critical?: boolean;
  /** Runs even after an interrupt (the cleanup). */
  cleanup?: boolean;
  /** The body stops on the interrupt itself (a Pulumi operation given the signal): wait for it rather than abandon it. */
  handlesInterrupt?: boolean;
  describe?: (value: T) => string;
}

export class Phases {
  readonly results: PhaseResult[] = [];

  constructor(
    private readonly now: () => number = () => performance.now(),
    /** Ctrl+C: the running phase is abandoned and no further phase starts, except cleanup phases. */
    private readonly interrupt?: AbortSignal,
  ) {}

  /** Runs one phase and records its time and outcome. */
  async run<T>(name: string, body: () => Promise<T>, options: PhaseOptions<T> = {}): Promise<T | undefined> {
    const started = this.now();
    try {
      const interrupt = options.cleanup ? undefined : this.interrupt;
      if (interrupt?.aborted) throw new Error("interrupted");
      const value =
        interrupt && !options.handlesInterrupt
          ? await Promise.race([body(), new Promise<never>((_, reject) => interrupt.addEventListener("abort", () => reject(new Error("interrupted")), { once: true }))])
          : await body();
      this.results.push({ name, ok: true, ms: this.now() - started, detail: options.describe ? options.describe(value) : typeof value === "string" ? value : "" });
      return value;
    } catch (error) {
      this.results.push({ name, ok: false, ms: this.now() - started, detail: (error as Error).message });
      if (options.critical || this.interrupt?.aborted) throw error;
      return undefined;
    }
  }

  get failed(): PhaseResult[] {
    return this.results.filter((result) => !result.ok);
  }
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A Markdown table of every phase, then the verdict. */
export function markdownReport(title: string, results: PhaseResult[]): string {
  const lines = [`# ${title}`, "", "| phase | result | time | detail |", "| --- | --- | ---: | --- |"];
  for (const result of results) lines.push(`| ${cell(result.name)} | ${result.ok ? "ok" : "FAILED"} | ${formatSeconds(result.ms)} | ${cell(result.detail)} |`);
  const failed = results.filter((result) => !result.ok);
  const total = results.reduce((sum, result) => sum + result.ms, 0);
  lines.push("", failed.length === 0 ? `All ${results.length} phases passed in ${formatSeconds(total)}.` : `${failed.length} of ${results.length} phases FAILED: ${failed.map((result) => result.name).join(", ")}.`);
  return `${lines.join("\n")}\n`;
}
