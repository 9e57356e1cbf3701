/**
 * TF Serving's Prometheus exposition, as tensorflow_serving/util/prometheus_exporter.cc writes it and
 * tensorflow_serving/model_servers/http_server.cc serves it (tag 2.20.0): `# TYPE` lines only, families
 * sorted by name, `le` last, doubles printed like absl::StrCat (`%.6g`), served as bare `text/plain`.
 */

export { LATENCY_BOUNDS_US, formatDouble } from "../../components/monitoring/latencyBuckets";
import { LATENCY_BOUNDS_US, formatDouble } from "../../components/monitoring/latencyBuckets";

/** TensorFlow's `Buckets::Exponential(scale, growth, count)`: the bounds it multiplies out (DBL_MAX, printed +Inf, follows). */
export function exponentialBounds(scale: number, growth: number, count: number): number[] {
  const bounds: number[] = [];
  for (let bound = scale; bounds.length < count; bound *= growth) bounds.push(bound);
  return bounds;
}

/** The other families' buckets, from their definitions (batching_session.cc, batching_util.h, core/common_runtime/metrics.cc). */
export const BOUNDS = {
  queuingUs: exponentialBounds(100, 1.2, 52),
  batchRows: exponentialBounds(1, 2, 14),
  graphRunUs: exponentialBounds(1000, 2, 20),
} as const;

/** TF Serving's metrics Content-Type: bare, no `version=0.0.4` parameter (Prometheus 3 reads it as the text format). */
export const CONTENT_TYPE = "text/plain";

const FAMILY = {
  requestCount: ":tensorflow:serving:request_count",
  requestLatency: ":tensorflow:serving:request_latency",
  runtimeLatency: ":tensorflow:serving:runtime_latency",
  queuingLatency: ":tensorflow:serving:batching_session:queuing_latency",
  inputBatchSize: ":tensorflow:serving:batching_session:input_batch_size",
  processedBatchSize: ":tensorflow:serving:batching_session:processed_batch_size",
  paddingSize: ":tensorflow:serving:batching_session:padding_size",
  warmupLatency: ":tensorflow:serving:model_warmup_latency",
  loadAttempts: ":tensorflow:cc:saved_model:load_attempt_count",
  loadLatency: ":tensorflow:cc:saved_model:load_latency",
  graphRuns: ":tensorflow:core:graph_runs",
  graphRunTime: ":tensorflow:core:graph_run_time_usecs",
  graphRunTimeHistogram: ":tensorflow:core:graph_run_time_usecs_histogram",
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

interface Family {
  readonly name: string;
  lines(): string[];
}

class Counter implements Family {
  private readonly cells = new Cells(() => ({ value: 0 }));
  constructor(readonly name: string) {}
  /** Counters are int64 cells in TensorFlow: amounts are whole numbers. */
  inc(labels: Labels, amount = 1): void {
    this.cells.get(labels).value += Math.round(amount);
  }
  lines(): string[] {
    return [`# TYPE ${this.name} counter`, ...this.cells.entries().map(([labels, cell]) => `${this.name}{${labels}} ${cell.value}`)];
  }
}

class Histogram implements Family {
  private readonly cells = new Cells(() => ({ buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0 }));
  constructor(
    readonly name: string,
    private readonly bounds: readonly number[] = LATENCY_BOUNDS_US,
  ) {}
  observe(labels: Labels, value: number): void {
    const cell = this.cells.get(labels);
    cell.buckets[bucketIndex(this.bounds, value)] += 1;
    cell.sum += value;
  }
  lines(): string[] {
    const lines = [`# TYPE ${this.name} histogram`];
    for (const [labels, cell] of this.cells.entries()) {
      let cumulative = 0;
      // A label-less bucket line is `_bucket{le="..."}`, while `_sum{}` and `_count{}` keep their empty braces.
      const prefix = labels === "" ? "" : `${labels},`;
      cell.buckets.forEach((count, index) => {
        cumulative += count;
        const bound = index < this.bounds.length ? formatDouble(this.bounds[index]) : "+Inf";
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${cumulative}`);
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

export interface ServerOptions {
  /** The version directory TF Serving loaded at start (`/models/<model>/<version>`). */
  version?: string;
  /** --enable_batching: the batching families get points. */
  batching?: boolean;
  /** The version has assets.extra/tf_serving_warmup_requests, so loading it records a warm-up. */
  warmup?: boolean;
}

/** Shares of a successful predict's latency: the session run (the rest is parsing and serialization) and, batching on, the queue wait. */
export const RUNTIME_SHARE = 0.8;
export const QUEUE_SHARE = 0.1;
/** How long the simulated load and warm-up of a version take, in microseconds. */
export const LOAD_US = 180_000;
export const WARMUP_US = 95_000;
/** TF Serving's batch thread pool as the queuing latency labels it; no query depends on the name. */
const BATCH_THREAD_POOL = "batch_threads";

/** The metric families TF Serving (with its TensorFlow) exports for one model. */
export class TfServingMetrics {
  private readonly requests = new Counter(FAMILY.requestCount);
  private readonly latency = new Histogram(FAMILY.requestLatency);
  private readonly runtime = new Histogram(FAMILY.runtimeLatency);
  // File-level statics in TF Serving and TensorFlow: registered, so printed, from the start.
  private readonly queuing = new Histogram(FAMILY.queuingLatency, BOUNDS.queuingUs);
  private readonly warmupLatency = new Histogram(FAMILY.warmupLatency);
  private readonly loadAttempts = new Counter(FAMILY.loadAttempts);
  private readonly loadLatency = new Counter(FAMILY.loadLatency);
  private readonly graphRuns = new Counter(FAMILY.graphRuns);
  private readonly graphRunTime = new Counter(FAMILY.graphRunTime);
  private readonly graphRunTimeHistogram = new Histogram(FAMILY.graphRunTimeHistogram, BOUNDS.graphRunUs);
  // Function-local statics in batching_util.h: registered at the first enqueued request (input) or batch run, so absent without batching.
  private readonly batchFamilies = {
    input: new Histogram(FAMILY.inputBatchSize, BOUNDS.batchRows),
    processed: new Histogram(FAMILY.processedBatchSize, BOUNDS.batchRows),
    padding: new Histogram(FAMILY.paddingSize, BOUNDS.batchRows),
  };
  private enqueued = false;
  private batched = false;
  private pendingRows = 0;
  private readonly modelPath: string;
  private readonly batching: boolean;

  constructor(
    private readonly modelName: string,
    options: ServerOptions = {},
  ) {
    this.batching = options.batching ?? false;
    this.modelPath = `/models/${modelName}/${options.version ?? "1"}`;
    this.loadAttempts.inc({ model_path: this.modelPath, status: "success" });
    this.loadLatency.inc({ model_path: this.modelPath }, LOAD_US);
    if (options.warmup) this.warmupLatency.observe({ model_path: this.modelPath, status: "OK" }, WARMUP_US);
  }

  /** A load of another version that failed (a broken SavedModel): counted, no latency (TensorFlow times successful loads only). */
  recordFailedLoad(version: string): void {
    this.loadAttempts.inc({ model_path: `/models/${this.modelName}/${version}`, status: "fail" });
  }

  record(outcome: RequestOutcome): void {
    const model_name = this.modelName;
    this.requests.inc({ model_name, status: outcome.status });
    if (outcome.status !== "OK") return;
    const micros = outcome.latencyMs * 1000;
    this.latency.observe({ model_name, API: outcome.api, entrypoint: "REST" }, micros);
    // The session run is most of a predict call; status requests run no session.
    if (outcome.api !== "predict") return;
    const runtime = micros * RUNTIME_SHARE;
    this.runtime.observe({ model_name, API: "Predict", runtime: "TF1" }, runtime);
    this.graphRuns.inc({});
    this.graphRunTime.inc({}, runtime);
    this.graphRunTimeHistogram.observe({}, runtime);
    if (this.batching) {
      this.queuing.observe({ thread_pool_name: BATCH_THREAD_POOL }, micros * QUEUE_SHARE);
      this.batchFamilies.input.observe({}, 1);
      this.enqueued = true;
      this.pendingRows += 1;
    }
  }

  /** Batching on: the rows queued since the last call run as one batch (the server calls this every tick). */
  runBatch(): void {
    if (this.pendingRows === 0) return;
    this.batched = true;
    this.batchFamilies.processed.observe({}, this.pendingRows);
    this.batchFamilies.padding.observe({ execution_batch_size: String(this.pendingRows) }, 0);
    this.pendingRows = 0;
  }

  /** The page a scrape gets: every registered family, even one with no points yet, by internal name, newline-terminated. */
  exposition(): string {
    const families: Family[] = [
      this.requests,
      this.latency,
      this.runtime,
      this.queuing,
      this.warmupLatency,
      this.loadAttempts,
      this.loadLatency,
      this.graphRuns,
      this.graphRunTime,
      this.graphRunTimeHistogram,
      ...(this.enqueued ? [this.batchFamilies.input] : []),
      ...(this.batched ? [this.batchFamilies.processed, this.batchFamilies.padding] : []),
    ];
    // TensorFlow's registry is a map keyed by the internal name (`/tensorflow/...`).
    const internal = (family: Family) => family.name.replace(/:/g, "/");
    families.sort((a, b) => (internal(a) < internal(b) ? -1 : 1));
    return `${families.flatMap((family) => family.lines()).join("\n")}\n`;
  }
}
