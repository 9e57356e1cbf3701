/** What the simulated TF Serving is doing right now; switch it at any time with Simulator.setScenario. */
export interface Scenario {
  name: string;
  /** Synthetic REST predict requests per second (0 = silence); real HTTP requests come on top. */
  ratePerSecond: number;
  /** Share of requests (synthetic and HTTP) that fail, 0..1. */
  errorRatio: number;
  /** Error code names used in turn for failures, e.g. UNAVAILABLE. */
  errorStatuses: string[];
  /** Latency of successful requests, uniform between the bounds (ms). */
  latencyMs: { min: number; max: number };
}

export const SCENARIO_NAMES = ["steady", "errors", "spike", "slow", "silence"] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioBase {
  ratePerSecond: number;
  errorRatio: number;
  errorStatuses: string[];
  latencyMs: { min: number; max: number };
}

export const DEFAULT_BASE: ScenarioBase = {
  ratePerSecond: 20,
  errorRatio: 0.02,
  errorStatuses: ["INVALID_ARGUMENT"],
  latencyMs: { min: 20, max: 60 },
};

/** How much a spike multiplies the base rate: far above the default 3x spike factor, so the spike alert holds long enough to fire. */
export const SPIKE_MULTIPLIER = 10;

/**
 * The named scenarios, each a variation of a steady base: `errors` fails a quarter of requests with two
 * codes, `spike` multiplies the rate, `slow` puts latency around 800 ms, `silence` sends nothing.
 */
export function presetScenario(name: ScenarioName, base: ScenarioBase = DEFAULT_BASE): Scenario {
  const steady = { ...base, name };
  switch (name) {
    case "steady":
      return steady;
    case "errors":
      return { ...steady, errorRatio: 0.25, errorStatuses: ["INVALID_ARGUMENT", "UNAVAILABLE"] };
    case "spike":
      return { ...steady, ratePerSecond: base.ratePerSecond * SPIKE_MULTIPLIER };
    case "slow":
      return { ...steady, latencyMs: { min: 600, max: 1000 } };
    case "silence":
      return { ...steady, ratePerSecond: 0 };
  }
}

export function checkScenario(scenario: Scenario): void {
  const problems: string[] = [];
  if (!(scenario.ratePerSecond >= 0 && scenario.ratePerSecond <= 10_000)) problems.push("rate must be 0..10000 req/s");
  if (!(scenario.errorRatio >= 0 && scenario.errorRatio <= 1)) problems.push("error ratio must be 0..1");
  if (scenario.errorRatio > 0 && scenario.errorStatuses.length === 0) problems.push("an error ratio needs at least one error status");
  if (scenario.errorStatuses.some((status) => !/^[A-Z_]+$/.test(status) || status === "OK")) problems.push("error statuses are code names such as UNAVAILABLE");
  if (!(scenario.latencyMs.min >= 0 && scenario.latencyMs.max >= scenario.latencyMs.min)) problems.push("latency needs 0 <= min <= max (ms)");
  if (problems.length > 0) throw new Error(`scenario ${scenario.name}: ${problems.join("; ")}`);
}

export interface Outcome {
  status: string;
  latencyMs: number;
}

/**
 * Outcomes of successive requests. Failures are spread evenly (an accumulator, not dice), so N
 * requests carry exactly round(N * ratio) errors; latencies come from a seeded generator, so runs repeat.
 */
export class OutcomeSource {
  private errorCarry = 0;
  private nextError = 0;
  private state: number;

  constructor(seed = 42) {
    this.state = seed >>> 0;
  }

  next(scenario: Scenario): Outcome {
    this.errorCarry += scenario.errorRatio;
    if (this.errorCarry >= 1 - 1e-9) {
      this.errorCarry -= 1;
      const status = scenario.errorStatuses[this.nextError++ % scenario.errorStatuses.length];
      return { status, latencyMs: 0 };
    }
    const { min, max } = scenario.latencyMs;
    return { status: "OK", latencyMs: min + this.random() * (max - min) };
  }

  /** mulberry32: a tiny, well-known 32-bit PRNG, enough for spreading latencies. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
