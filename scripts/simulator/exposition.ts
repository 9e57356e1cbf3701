/**
 * TF Serving's Prometheus exposition, as tensorflow_serving/util/prometheus_exporter.cc writes it and
 * tensorflow_serving/model_servers/http_server.cc serves it (tag 2.20.0): `# TYPE` lines only, families
 * sorted by name, `le` last, doubles printed like absl::StrCat (`%.6g`), served as bare `text/plain`.
 */

export { LATENCY_BOUNDS_US, formatDouble } from "../../components/monitoring/latencyBuckets";
import { LATENCY_BOUNDS_US, formatDouble } from "../../components/monitoring/latencyBuckets";

/** TF Serving's metrics Content-Type: bare, no `version=0.0.4` parameter (Prometheus 3 reads it as the text format). */
export const CONTENT_TYPE = "text/plain";

const FAMILY = {
  requestCount: ":tensorflow:serving:request_count",
  requestLatency: ":tensorflow:serving:request_latency",
  runtimeLatency: ":tensorflow:serving:runtime_latency",
} as const;

/**
 * The bucket TensorFlow's histogram puts a value in: the first whose bound is GREATER than the value
 * (std::upper_bound in tensorflow/core/lib/histogram/histogram.cc), so a value equal to a bound
 * counts in the next bucket, unlike Prometheus client libraries. `bounds.length` is the +Inf bucket.
 */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let index = 0;
  while (index < bounds.length && bounds[index] <= value) index++;
  return index;
}

type Labels = Record<string, string>;

const labelText = (labels: Labels) =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(",");

/** Cells keyed by their label text, in label-text order as TensorFlow's collection registry sorts them. */
class Cells<T> {
  private readonly cells = new Map<string, T>();
  constructor(private readonly create: () => T) {}
  get(labels: Labels): T {
    const key = labelText(labels);
    if (!this.cells.has(key)) this.cells.set(key, this.create());
    return this.cells.get(key)!;
  }
  entries(): [string, T][] {
    return [...this.cells.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

class Counter {
  private readonly cells = new Cells(() => ({ value: 0 }));
  constructor(readonly name: string) {}
  inc(labels: Labels): void {
    this.cells.get(labels).value += 1;
  }
  lines(): string[] {
    return [`# TYPE ${this.name} counter`, ...this.cells.entries().map(([labels, cell]) => `${this.name}{${labels}} ${cell.value}`)];
  }
}

class Histogram {
  private readonly cells = new Cells(() => ({ buckets: new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0), sum: 0 }));
  constructor(readonly name: string) {}
  observe(labels: Labels, value: number): void {
    const cell = this.cells.get(labels);
    cell.buckets[bucketIndex(LATENCY_BOUNDS_US, value)] += 1;
    cell.sum += value;
  }
  lines(): string[] {
    const lines = [`# TYPE ${this.name} histogram`];
    for (const [labels, cell] of this.cells.entries()) {
      let cumulative = 0;
      cell.buckets.forEach((count, index) => {
        cumulative += count;
        const bound = index < LATENCY_BOUNDS_US.length ? formatDouble(LATENCY_BOUNDS_US[index]) : "+Inf";
        lines.push(`${this.name}_bucket{${labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`${this.name}_sum{${labels}} ${formatDouble(cell.sum)}`, `${this.name}_count{${labels}} ${cumulative}`);
    }
    return lines;
  }
}

export interface RequestOutcome {
  /** `OK` or an error code name such as UNAVAILABLE. */
  status: string;
  /** Latency in milliseconds; recorded only for successful requests, as TF Serving does. */
  latencyMs: number;
  /** REST verb as sent (`predict`), or "" for model status requests. */
  api: "predict" | "";
}

/** The metric families TF Serving exports for one model. */
export class TfServingMetrics {
  private readonly requests = new Counter(FAMILY.requestCount);
  private readonly latency = new Histogram(FAMILY.requestLatency);
  private readonly runtime = new Histogram(FAMILY.runtimeLatency);

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

  /** The page a scrape gets: every family, even one with no points yet, newline-terminated. */
  exposition(): string {
    return `${[this.requests, this.latency, this.runtime].flatMap((family) => family.lines()).join("\n")}\n`;
  }
}
