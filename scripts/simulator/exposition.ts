import { Counter, Histogram, Registry } from "prom-client";

/** TF Serving's latency buckets in microseconds (`Buckets::Exponential(10, 1.8, 33)`), as it prints them. */
export const LATENCY_BOUNDS_US = [
  10, 18, 32.4, 58.32, 104.976, 188.957, 340.122, 612.22, 1102, 1983.59, 3570.47, 6426.84, 11568.3, 20823, 37481.3, 67466.4,
  121440, 218591, 393464, 708235, 1.27482e6, 2.29468e6, 4.13043e6, 7.43477e6, 1.33826e7, 2.40887e7, 4.33596e7, 7.80473e7,
  1.40485e8, 2.52873e8, 4.55172e8, 8.19309e8, 1.47476e9,
];

/** TF Serving serves its exposition as plain text, without prom-client's version suffix. */
export const CONTENT_TYPE = "text/plain";

const FAMILY = {
  requestCount: ":tensorflow:serving:request_count",
  requestLatency: ":tensorflow:serving:request_latency",
  runtimeLatency: ":tensorflow:serving:runtime_latency",
} as const;

/** C's `%g` (6 significant digits), which TF Serving uses for `le` values: 1274820 -> 1.27482e+06. */
export function formatBound(value: number): string {
  if (!Number.isFinite(value)) return "+Inf";
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, power] = value.toExponential(5).split("e");
    const trimmed = mantissa.replace(/\.?0+$/, "");
    const sign = power.startsWith("-") ? "-" : "+";
    return `${trimmed}e${sign}${power.replace(/^[-+]/, "").padStart(2, "0")}`;
  }
  return String(Number(value.toPrecision(6)));
}

/**
 * prom-client output reshaped to TF Serving's: no `# HELP` lines or blank separators, and `le`
 * printed last with `%g` formatting, as TF Serving's exporter does.
 */
export function toTfServingShape(text: string): string {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ")) continue;
    const le = /^(\S+_bucket\{)le="([^"]+)",?(.*)\}( .*)$/.exec(line);
    if (!le) {
      lines.push(line);
      continue;
    }
    const [, start, bound, rest, value] = le;
    const printed = bound === "+Inf" ? bound : formatBound(Number(bound));
    lines.push(`${start}${rest ? `${rest},` : ""}le="${printed}"}${value}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface RequestOutcome {
  /** `OK` or an error code name such as UNAVAILABLE. */
  status: string;
  /** Latency in milliseconds; recorded only for successful requests, as TF Serving does. */
  latencyMs: number;
  /** REST verb as sent (`predict`), or "" for model status requests. */
  api: "predict" | "";
}

/** The metric families TF Serving exports for one model, in a registry of their own. */
export class TfServingMetrics {
  private readonly registry = new Registry();
  private readonly requests = new Counter({
    name: FAMILY.requestCount,
    help: "unused: TF Serving prints no HELP lines",
    labelNames: ["model_name", "status"],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: FAMILY.requestLatency,
    help: "unused",
    labelNames: ["model_name", "API", "entrypoint"],
    buckets: LATENCY_BOUNDS_US,
    registers: [this.registry],
  });
  private readonly runtime = new Histogram({
    name: FAMILY.runtimeLatency,
    help: "unused",
    labelNames: ["model_name", "API", "runtime"],
    buckets: LATENCY_BOUNDS_US,
    registers: [this.registry],
  });

  constructor(private readonly modelName: string) {}

  record(outcome: RequestOutcome): void {
    const model_name = this.modelName;
    this.requests.inc({ model_name, status: outcome.status });
    if (outcome.status !== "OK") return;
    const micros = outcome.latencyMs * 1000;
    this.latency.observe({ model_name, API: outcome.api, entrypoint: "REST" }, micros);
    // The session run is most of a predict call; status requests run no session.
    if (outcome.api === "predict") this.runtime.observe({ model_name, API: "Predict", runtime: "TF1" }, micros * 0.8);
  }

  async exposition(): Promise<string> {
    return toTfServingShape(await this.registry.metrics());
  }
}
