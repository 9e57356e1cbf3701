/**
 * The simulator's internals families, each as TF Serving 2.20 (with its TensorFlow) prints it: names, labels,
 * bucket bounds from the definitions (Buckets::Exponential), label-less lines, and when a family appears.
 */
import { BOUNDS, LOAD_US, QUEUE_SHARE, RUNTIME_SHARE, TfServingMetrics, WARMUP_US, exponentialBounds, formatDouble } from "../../scripts/simulator/exposition";

const MODEL = "diabetes-prediction";
const lines = (metrics: TfServingMetrics) => metrics.exposition().split("\n");
const value = (metrics: TfServingMetrics, series: string) => {
  const line = lines(metrics).find((candidate) => candidate.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
};
const predict = (metrics: TfServingMetrics, latencyMs: number) => metrics.record({ status: "OK", latencyMs, api: "predict" });

describe("TF Serving internals in the simulator", () => {
  it("multiplies out TensorFlow's exponential buckets and prints them with 6 significant digits", () => {
    expect(exponentialBounds(10, 1.8, 33).map(formatDouble).slice(-3)).toEqual(["4.55172e+08", "8.19309e+08", "1.47476e+09"]);
    expect(BOUNDS.queuingUs).toHaveLength(52);
    expect(BOUNDS.queuingUs.slice(0, 3).map(formatDouble)).toEqual(["100", "120", "144"]);
    expect(BOUNDS.batchRows.map(formatDouble)).toEqual(["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "2048", "4096", "8192"]);
    expect(formatDouble(BOUNDS.graphRunUs[19])).toBe("5.24288e+08");
  });

  it("prints label-less families as TensorFlow does: _bucket{le=...}, _sum{} and _count{}, counters with {}", () => {
    const metrics = new TfServingMetrics(MODEL);
    predict(metrics, 10);
    const text = lines(metrics);
    expect(text).toContain(":tensorflow:core:graph_runs{} 1");
    expect(text).toContain(":tensorflow:core:graph_run_time_usecs{} 8000");
    expect(text).toContain(':tensorflow:core:graph_run_time_usecs_histogram_bucket{le="4000"} 0');
    expect(text).toContain(':tensorflow:core:graph_run_time_usecs_histogram_bucket{le="8000"} 0');
    // 8000 us equals a bound, so it counts in the next bucket (std::upper_bound).
    expect(text).toContain(':tensorflow:core:graph_run_time_usecs_histogram_bucket{le="16000"} 1');
    expect(text).toContain(":tensorflow:core:graph_run_time_usecs_histogram_sum{} 8000");
    expect(text).toContain(":tensorflow:core:graph_run_time_usecs_histogram_count{} 1");
    expect(value(metrics, `:tensorflow:serving:runtime_latency_sum{model_name="${MODEL}",API="Predict",runtime="TF1"}`)).toBe(10_000 * RUNTIME_SHARE);
  });

  it("without batching: the queuing family prints only its TYPE line and the batch-size families do not exist", () => {
    const metrics = new TfServingMetrics(MODEL);
    for (let i = 0; i < 5; i++) predict(metrics, 20);
    metrics.runBatch();
    const text = lines(metrics);
    expect(text).toContain("# TYPE :tensorflow:serving:batching_session:queuing_latency histogram");
    expect(text.filter((line) => line.startsWith(":tensorflow:serving:batching_session:"))).toEqual([]);
    expect(text.filter((line) => line.includes("input_batch_size") || line.includes("processed_batch_size"))).toEqual([]);
  });

  it("with batching: queue wait per request, one row per request in, the rows of each run as one batch", () => {
    const metrics = new TfServingMetrics(MODEL, { batching: true });
    for (let i = 0; i < 3; i++) predict(metrics, 20);
    metrics.runBatch();
    predict(metrics, 20);
    metrics.runBatch();
    metrics.runBatch(); // nothing queued: no batch
    const queue = (suffix: string) => `:tensorflow:serving:batching_session:queuing_latency_${suffix}{thread_pool_name="batch_threads"}`;
    expect(value(metrics, queue("count"))).toBe(4);
    expect(value(metrics, queue("sum"))).toBeCloseTo(4 * 20_000 * QUEUE_SHARE);
    expect(value(metrics, ":tensorflow:serving:batching_session:input_batch_size_count{}")).toBe(4);
    expect(value(metrics, ":tensorflow:serving:batching_session:input_batch_size_sum{}")).toBe(4);
    expect(value(metrics, ":tensorflow:serving:batching_session:processed_batch_size_count{}")).toBe(2);
    expect(value(metrics, ":tensorflow:serving:batching_session:processed_batch_size_sum{}")).toBe(4);
    expect(lines(metrics)).toContain(':tensorflow:serving:batching_session:processed_batch_size_bucket{le="4"} 2');
    expect(value(metrics, ':tensorflow:serving:batching_session:padding_size_count{execution_batch_size="3"}')).toBe(1);
  });

  it("records the start-up load (and warm-up, when the model ships warm-up requests), and failed loads of other versions", () => {
    const metrics = new TfServingMetrics(MODEL, { version: "7", warmup: true });
    metrics.recordFailedLoad("8");
    metrics.recordFailedLoad("8");
    const path = (version: string) => `/models/${MODEL}/${version}`;
    expect(value(metrics, `:tensorflow:cc:saved_model:load_attempt_count{model_path="${path("7")}",status="success"}`)).toBe(1);
    expect(value(metrics, `:tensorflow:cc:saved_model:load_attempt_count{model_path="${path("8")}",status="fail"}`)).toBe(2);
    expect(value(metrics, `:tensorflow:cc:saved_model:load_latency{model_path="${path("7")}"}`)).toBe(LOAD_US);
    expect(lines(metrics).filter((line) => line.startsWith(":tensorflow:cc:saved_model:load_latency{"))).toHaveLength(1);
    expect(value(metrics, `:tensorflow:serving:model_warmup_latency_sum{model_path="${path("7")}",status="OK"}`)).toBe(WARMUP_US);
    expect(lines(new TfServingMetrics(MODEL)).filter((line) => line.startsWith(":tensorflow:serving:model_warmup_latency"))).toEqual([]);
  });
});
