/**
 * Every PromQL expression of the project: dashboard panels, recording rules and alerts all import
 * from here, so a query is written once.
 *
 * TF Serving semantics that shape these queries (see shared/TFSERVING.md):
 * - request_count counts every request, errors included; `status` is OK or an error code name;
 * - request_latency is recorded only for successful requests, in microseconds;
 * - REST predict calls carry API="predict" (lowercase) and entrypoint="REST".
 *
 * Every aggregate sums over all series of the model, never per instance: in push mode each replica's
 * agent sends its own series (told apart by the `replica` external label), so the sums are the
 * service's totals at any replica count. Only the per-replica views group by `replica`.
 */

import { SCRAPE_ROUTE_HANDLERS, SERVER_NAMES } from "../frontDoor/caddyConfig";
import { formatDouble, prometheusLeValue } from "./latencyBuckets";

export const METRICS = {
  requestCount: ":tensorflow:serving:request_count",
  requestLatency: ":tensorflow:serving:request_latency",
  runtimeLatency: ":tensorflow:serving:runtime_latency",
} as const;

/**
 * The served model version on every TF Serving series (TF Serving exports none, tensorflow/serving#1970): a
 * target label in scrape mode, an external label of each replica's agent in push mode. Only the by-version
 * views group by it; every other aggregate sums it away, so a deploy neither splits nor resets a total.
 */
export const MODEL_VERSION_LABEL = "model_version";

/**
 * `scrape`: our Prometheus scrapes one serving endpoint (one replica). `push`: a Prometheus agent in
 * every replica scrapes its own server and remote-writes to our Prometheus.
 */
export type MetricsMode = "scrape" | "push";

/**
 * Push mode: how long without a single sample from any replica's agent before the job counts as missing.
 * Four 15s remote-write batches at least, shorter than the 5m lookback a plain `absent()` would wait.
 */
export const PUSH_FRESHNESS_WINDOW = "2m";

/** A Prometheus range such as `1m`; only literal durations, so every expression parses as plain PromQL. */
export type Window = `${number}${"s" | "m" | "h" | "d"}`;

export interface ServingQueries {
  /** Requests since the server started, all statuses (the seed's "Total API requests"). */
  totalRequests: string;
  /** Requests since start, by status (the seed's "Requests by status"). */
  requestsByStatus: string;
  /** Requests per second over the window, all statuses. */
  requestRate(window: Window): string;
  requestRateByStatus(window: Window): string;
  /** Failed requests (status != OK) per second over the window; 0 rather than empty while there is traffic. */
  errorRate(window: Window): string;
  /** Failed / all requests over the window, 0..1; empty when there is no traffic at all. */
  errorRatio(window: Window): string;
  /** Mean REST predict latency in ms over the window (rates, not lifetime sums). */
  meanLatencyMs(window: Window): string;
  /** A quantile (0..1) of REST predict latency in ms over the window. */
  latencyQuantileMs(quantile: number, window: Window): string;
  /** Present only when the request series already existed `window` ago, i.e. a rate over that window is complete. */
  requestHistory(window: Window): string;
  /** The most times any one request counter of the model went backwards within the window. */
  counterResets(window: Window): string;
  /** Request rate per replica (push mode's `replica` label; one unlabelled series in scrape mode). */
  requestRateByReplica(window: Window): string;
  /** A latency quantile per replica, in ms. */
  latencyQuantileMsByReplica(quantile: number, window: Window): string;
  /** Request rate per served model version (the `model_version` label); two lines while a deploy's windows overlap. */
  requestRateByVersion(window: Window): string;
  /** A latency quantile per served model version, in ms. */
  latencyQuantileMsByVersion(quantile: number, window: Window): string;
  /** Health of the TF Serving scrape: our Prometheus' scrape in scrape mode, each replica's agent scrape in push mode. */
  targetUp: string;
  /** Non-empty when the job has no series at all: never scraped (scrape mode), or no replica pushed for a while (push mode). */
  targetMissing: string;
}

const labelValue = (value: string) => JSON.stringify(value);

export function servingQueries(modelName: string, jobName: string, mode: MetricsMode = "scrape"): ServingQueries {
  const model = `model_name=${labelValue(modelName)}`;
  const requests = `${METRICS.requestCount}{${model}}`;
  const failed = `${METRICS.requestCount}{${model},status!="OK"}`;
  const predictRest = `${model},API="predict",entrypoint="REST"`;

  const requestRate = (window: Window) => `sum(rate(${requests}[${window}]))`;
  const latencyBuckets = (window: Window) => `rate(${METRICS.requestLatency}_bucket{${predictRest}}[${window}])`;
  const targetUp = `up{job=${labelValue(jobName)}}`;
  const errorRate = (window: Window) => `(sum(rate(${failed}[${window}])) or (${requestRate(window)} * 0))`;
  return {
    totalRequests: `sum(${requests})`,
    requestsByStatus: `sum by (status) (${requests})`,
    requestRate,
    requestRateByStatus: (window) => `sum by (status) (rate(${requests}[${window}]))`,
    errorRate,
    errorRatio: (window) => `${errorRate(window)} / ${requestRate(window)}`,
    meanLatencyMs: (window) =>
      `sum(rate(${METRICS.requestLatency}_sum{${predictRest}}[${window}])) / sum(rate(${METRICS.requestLatency}_count{${predictRest}}[${window}])) / 1000`,
    latencyQuantileMs: (quantile, window) => `histogram_quantile(${quantile}, sum by (le) (${latencyBuckets(window)})) / 1000`,
    requestHistory: (window) => `count(${requests} offset ${window})`,
    counterResets: (window) => `max(resets(${requests}[${window}]))`,
    requestRateByReplica: (window) => `sum by (replica) (rate(${requests}[${window}]))`,
    latencyQuantileMsByReplica: (quantile, window) => `histogram_quantile(${quantile}, sum by (replica, le) (${latencyBuckets(window)})) / 1000`,
    requestRateByVersion: (window) => `sum by (${MODEL_VERSION_LABEL}) (rate(${requests}[${window}]))`,
    latencyQuantileMsByVersion: (quantile, window) =>
      `histogram_quantile(${quantile}, sum by (${MODEL_VERSION_LABEL}, le) (${latencyBuckets(window)})) / 1000`,
    targetUp,
    // A pushed series stays visible for the 5m lookback after its last sample; absent_over_time notices sooner.
    targetMissing: mode === "push" ? `absent_over_time(${targetUp}[${PUSH_FRESHNESS_WINDOW}])` : `absent(${targetUp})`,
  };
}

/** Caddy's response counter at the front door (its histogram's count carries `code`). */
export const EDGE_METRICS = { responses: "caddy_http_request_duration_seconds_count" } as const;

export interface EdgeQueries {
  /** Responses per second at the front door by HTTP status code (401, 404, 413, 5xx ...), scrapes left out. */
  responseRateByCode(window: Window): string;
  /** Share of the door's responses that are 5xx, 0..1: what TF Serving cannot count (it never saw the request, or never answered). */
  serverErrorRatio(window: Window): string;
}

/** The front door's client traffic: the job's `door` server, without the scrape routes (their first handlers). */
export function edgeQueries(jobName: string): EdgeQueries {
  const responses = `${EDGE_METRICS.responses}{job=${labelValue(jobName)},server="${SERVER_NAMES.door}",handler!~"${SCRAPE_ROUTE_HANDLERS.join("|")}"}`;
  const serverErrors = responses.replace(/\}$/, ',code=~"5.."}');
  const rate = (window: Window) => `sum(rate(${responses}[${window}]))`;
  return {
    responseRateByCode: (window) => `sum by (code) (rate(${responses}[${window}]))`,
    serverErrorRatio: (window) => `(sum(rate(${serverErrors}[${window}])) or (${rate(window)} * 0)) / ${rate(window)}`,
  };
}

/** The edge's 5xx alert: the share of 5xx answers at the front door above the error-ratio threshold. */
export function edgeServerErrorsExpression(edge: EdgeQueries, thresholds: Pick<AlertThresholds, "errorRatioThreshold">): string {
  return `${edge.serverErrorRatio("5m")} > ${thresholds.errorRatioThreshold}`;
}

export interface AlertThresholds {
  lowTrafficThresholdRps: number;
  spikeFactor: number;
  /** The 15m baseline must exceed this before a spike counts, so two stray requests do not page anyone. */
  spikeMinBaselineRps: number;
  errorRatioThreshold: number;
  latencyP95ThresholdMs: number;
}

/**
 * The two sides of each traffic detector's comparison, so a dashboard can plot exactly what the
 * low-traffic and spike alerts compare.
 */
export function detectorSeries(queries: ServingQueries, thresholds: Pick<AlertThresholds, "spikeFactor">) {
  return {
    // No series at all (a fresh server prints only # TYPE lines) counts as zero traffic.
    lowTrafficRate: `(${queries.requestRate("5m")} or on() vector(0))`,
    spikeRate: queries.requestRate("1m"),
    spikeLimit: `${thresholds.spikeFactor} * ${queries.requestRate("15m")}`,
  };
}

/** More resets than this within 5m are no restart: counters of several servers interleave, or TF Serving crash-loops. */
export const COUNTER_RESETS_LIMIT = 2;

/** Alert conditions, built only from the queries above. */
export function alertExpressions(queries: ServingQueries, thresholds: AlertThresholds) {
  const detectors = detectorSeries(queries, thresholds);
  return {
    lowTraffic: `${detectors.lowTrafficRate} < ${thresholds.lowTrafficThresholdRps}`,
    // A series younger than 15m has a 15m rate that undercounts (rate() divides by the whole window),
    // so a new model or a fresh Prometheus would look like a spike: wait for a full baseline.
    trafficSpike:
      `${detectors.spikeRate} > ${detectors.spikeLimit}` +
      ` and on() ${queries.requestRate("15m")} > ${thresholds.spikeMinBaselineRps}` +
      ` and on() ${queries.requestHistory("15m")}`,
    highErrorRatio: `${queries.errorRatio("5m")} > ${thresholds.errorRatioThreshold}`,
    highLatencyP95: `${queries.latencyQuantileMs(0.95, "5m")} > ${thresholds.latencyP95ThresholdMs}`,
    targetDown: `${queries.targetUp} == 0 or ${queries.targetMissing}`,
    // A restart resets a counter once. Several replicas behind one scraped domain interleave their
    // counters, which then go backwards on every other scrape.
    counterResets: `${queries.counterResets("5m")} > ${COUNTER_RESETS_LIMIT}`,
    watchdog: "vector(1)",
  };
}

/**
 * Recorded series, named `level:metric:operations`. The level lists the labels the output keeps:
 * the queries filter on one model, so the rules renderer adds `model_name` back as a rule label.
 */
export const RECORDED = {
  requestRate5m: "model:tfserving_requests:rate5m",
  requestRateByStatus1m: "model_status:tfserving_requests:rate1m",
  requestRateByStatus5m: "model_status:tfserving_requests:rate5m",
  errorRatio5m: "model:tfserving_request_errors_per_requests:ratio_rate5m",
  meanLatencyMs5m: "model:tfserving_rest_predict_latency_milliseconds:mean5m",
  p95LatencyMs5m: "model:tfserving_rest_predict_latency_milliseconds:p95_rate5m",
  p99LatencyMs5m: "model:tfserving_rest_predict_latency_milliseconds:p99_rate5m",
} as const;

/** Recording rule expressions, built only from the queries above. */
export function recordingExpressions(queries: ServingQueries): { record: string; expr: string }[] {
  return [
    { record: RECORDED.requestRate5m, expr: queries.requestRate("5m") },
    { record: RECORDED.requestRateByStatus1m, expr: queries.requestRateByStatus("1m") },
    { record: RECORDED.requestRateByStatus5m, expr: queries.requestRateByStatus("5m") },
    { record: RECORDED.errorRatio5m, expr: queries.errorRatio("5m") },
    { record: RECORDED.meanLatencyMs5m, expr: queries.meanLatencyMs("5m") },
    { record: RECORDED.p95LatencyMs5m, expr: queries.latencyQuantileMs(0.95, "5m") },
    { record: RECORDED.p99LatencyMs5m, expr: queries.latencyQuantileMs(0.99, "5m") },
  ];
}

/**
 * TF Serving's internals: where the time goes (model runtime, batching queue, graph runs) and how loading
 * went. Names, labels and units as TF Serving 2.20 and its TensorFlow export them (see shared/TFSERVING.md).
 * The batching, graph and load families carry no `model_name`: they are the server's, which serves one model.
 */
export const INTERNAL_METRICS = {
  /** Histogram, us; model_name, API, runtime. The session run alone, successful runs only. */
  runtimeLatency: METRICS.runtimeLatency,
  /** Histogram, us; thread_pool_name. Only with --enable_batching (the TYPE line prints either way). */
  queuingLatency: ":tensorflow:serving:batching_session:queuing_latency",
  /** Histograms of rows, no labels; registered at the first batch. */
  inputBatchSize: ":tensorflow:serving:batching_session:input_batch_size",
  processedBatchSize: ":tensorflow:serving:batching_session:processed_batch_size",
  /** Counter; model_path (the version directory), status `success` or `fail`. */
  loadAttempts: ":tensorflow:cc:saved_model:load_attempt_count",
  /** Counter of microseconds spent in successful loads; model_path. */
  loadLatency: ":tensorflow:cc:saved_model:load_latency",
  /** Histogram, us; model_path, status (`OK` or the error). Only for a model with assets.extra/tf_serving_warmup_requests. */
  warmupLatency: ":tensorflow:serving:model_warmup_latency",
  /** Counters, no labels: graph executions and the microseconds they took. */
  graphRuns: ":tensorflow:core:graph_runs",
  graphRunTime: ":tensorflow:core:graph_run_time_usecs",
  /** Histogram, us, no labels. */
  graphRunTimeHistogram: ":tensorflow:core:graph_run_time_usecs_histogram",
} as const;

export interface InternalsQueries {
  /** Mean REST predict latency minus mean model runtime, in ms: parsing, serialization and queueing around the model. */
  timeOutsideModelMs(window: Window): string;
  /** A quantile of the model's session runtime, in ms. */
  runtimeQuantileMs(quantile: number, window: Window): string;
  /** A quantile of the time requests wait in the batching queue, in ms. */
  queuingQuantileMs(quantile: number, window: Window): string;
  /** Mean rows per request entering the batcher, and per batch the model ran. */
  meanInputBatchSize(window: Window): string;
  meanProcessedBatchSize(window: Window): string;
  /** Load attempts of this model's versions since the server started, by status. */
  loadAttemptsByStatus: string;
  /** Time the successful loads of each version took, in seconds. */
  loadSecondsByPath: string;
  /** Mean warm-up time of each version, by status, in seconds. */
  warmupSecondsByPath: string;
  /** Graph executions per second, and their mean and quantile time in ms. */
  graphRunRate(window: Window): string;
  meanGraphRunMs(window: Window): string;
  graphRunQuantileMs(quantile: number, window: Window): string;
  /** Non-empty per version (and replica) whose load failed and that has not loaded since. */
  failedLoads: string;
  /** A recorded series of this model (the rules add `model_name` to every recorded series). */
  recorded(record: string): string;
}

export function internalsQueries(modelName: string): InternalsQueries {
  const m = INTERNAL_METRICS;
  const model = `model_name=${labelValue(modelName)}`;
  // TF Serving loads <model_base_path>/<model_name>/<version>; the path is the only model reference these families carry.
  const paths = `model_path=~${labelValue(`.*/${modelName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/[0-9]+/?`)}`;
  const mean = (family: string, selector: string, window: Window) =>
    `sum(rate(${family}_sum${selector}[${window}])) / sum(rate(${family}_count${selector}[${window}]))`;
  const quantile = (q: number, family: string, selector: string, window: Window) =>
    `histogram_quantile(${q}, sum by (le) (rate(${family}_bucket${selector}[${window}]))) / 1000`;
  const requestSelector = `{${model},API="predict",entrypoint="REST"}`;
  const loads = (status: string) => `sum by (model_path, replica) (${m.loadAttempts}{${paths},status="${status}"})`;
  return {
    timeOutsideModelMs: (window) => `(${mean(METRICS.requestLatency, requestSelector, window)} - ${mean(m.runtimeLatency, `{${model}}`, window)}) / 1000`,
    runtimeQuantileMs: (q, window) => quantile(q, m.runtimeLatency, `{${model}}`, window),
    queuingQuantileMs: (q, window) => quantile(q, m.queuingLatency, "", window),
    meanInputBatchSize: (window) => mean(m.inputBatchSize, "", window),
    meanProcessedBatchSize: (window) => mean(m.processedBatchSize, "", window),
    loadAttemptsByStatus: `sum by (status) (${m.loadAttempts}{${paths}})`,
    loadSecondsByPath: `sum by (model_path) (${m.loadLatency}{${paths}}) / 1e6`,
    warmupSecondsByPath: `sum by (model_path, status) (${m.warmupLatency}_sum{${paths}}) / sum by (model_path, status) (${m.warmupLatency}_count{${paths}}) / 1e6`,
    graphRunRate: (window) => `sum(rate(${m.graphRuns}[${window}]))`,
    meanGraphRunMs: (window) => `sum(rate(${m.graphRunTime}[${window}])) / sum(rate(${m.graphRuns}[${window}])) / 1000`,
    graphRunQuantileMs: (q, window) => quantile(q, m.graphRunTimeHistogram, "", window),
    failedLoads: `${loads("fail")} > 0 unless on (model_path, replica) ${loads("success")} > 0`,
    recorded: (record) => `${record}{${model}}`,
  };
}

/** Recorded quantiles of the internals panels, so a dashboard refresh reads one series instead of summing buckets. */
export const RECORDED_INTERNALS = {
  runtimeP95Ms5m: "model:tfserving_runtime_latency_milliseconds:p95_rate5m",
  queuingP95Ms5m: "model:tfserving_batching_queuing_latency_milliseconds:p95_rate5m",
  graphRunP95Ms5m: "model:tfserving_graph_run_time_milliseconds:p95_rate5m",
} as const;

export function internalsRecordingExpressions(queries: InternalsQueries): { record: string; expr: string }[] {
  return [
    { record: RECORDED_INTERNALS.runtimeP95Ms5m, expr: queries.runtimeQuantileMs(0.95, "5m") },
    { record: RECORDED_INTERNALS.queuingP95Ms5m, expr: queries.queuingQuantileMs(0.95, "5m") },
    { record: RECORDED_INTERNALS.graphRunP95Ms5m, expr: queries.graphRunQuantileMs(0.95, "5m") },
  ];
}

/**
 * SLOs in Sloth's conventions (github.com/slok/sloth, internal/prometheus): the recorded names and labels
 * Sloth generates, so Sloth's Grafana dashboards (grafana.com 14348 and its detail view) read ours unchanged.
 */
export const SLOTH = {
  sliErrorRatio: (window: Window) => `slo:sli_error:ratio_rate${window}` as const,
  objective: "slo:objective:ratio",
  errorBudget: "slo:error_budget:ratio",
  timePeriodDays: "slo:time_period:days",
  currentBurnRate: "slo:current_burn_rate:ratio",
  periodBurnRate: "slo:period_burn_rate:ratio",
  periodErrorBudgetRemaining: "slo:period_error_budget_remaining:ratio",
  info: "sloth_slo_info",
} as const;

/**
 * Our own step in front of Sloth's: every replica's bad and all events per second over 5m, summed, so
 * windows of hours and days read one recorded series instead of every replica's raw counters for days
 * (at 50 replicas that was most of the rule evaluation time; see the README's benchmark).
 */
export const SLO_EVENTS = {
  bad: "slo:sli_bad_events:rate5m",
  all: "slo:sli_events:rate5m",
} as const;

/** Windows read from the raw counters; longer ones sum the recorded 5m rates (up to 5m late, which no window this long notices). */
export const RAW_SLI_WINDOWS: readonly Window[] = ["5m", "30m", "1h"];

export type SloName = "availability" | "latency";

/** Sloth's identifying labels: `sloth_service` is the model, `sloth_id` is `<service>-<slo>`. */
export function sloLabels(modelName: string, slo: SloName) {
  return { sloth_id: `${modelName}-${slo}`, sloth_service: modelName, sloth_slo: slo };
}

/** One arm of a multi-window burn-rate alert: both windows' error ratios above factor x budget. */
export interface BurnCondition {
  short: Window;
  long: Window;
  factor: number;
}

/**
 * The queries of one SLO. The SLI error ratio sums every series of the model (every replica in push
 * mode, like the panels above) and is EMPTY while no request arrives: 0/0 would record NaN, and one NaN
 * in the period would turn the period's SLI into NaN for the whole period.
 */
export function sloQueries(modelName: string, slo: SloName, latencyThresholdUs: number) {
  const labels = sloLabels(modelName, slo);
  const filter = `{${Object.entries(labels).map(([name, value]) => `${name}=${labelValue(value)}`).join(",")}}`;
  const queries = servingQueries(modelName, "");
  const predictRest = `model_name=${labelValue(modelName)},API="predict",entrypoint="REST"`;
  // TF Serving prints the bound as 393464; Prometheus 3 stores a scraped histogram's le as 393464.0.
  const printed = formatDouble(latencyThresholdUs);
  const stored = prometheusLeValue(latencyThresholdUs);
  const le = printed === stored ? `le=${labelValue(printed)}` : `le=~${labelValue(`${printed}|${stored}`.replace(/\./g, "\\."))}`;
  const successes = (window: Window) => `sum(rate(${METRICS.requestLatency}_count{${predictRest}}[${window}]))`;
  const fastEnough = (window: Window) => `sum(rate(${METRICS.requestLatency}_bucket{${predictRest},${le}}[${window}]))`;
  const overBudget = (metric: string) => `${metric}${filter} / on(sloth_id, sloth_slo, sloth_service) group_left ${SLOTH.errorBudget}${filter}`;
  return {
    labels,
    /** Bad events per second over the window, every replica (0 rather than empty while there is traffic). */
    badRate: (window: Window) =>
      slo === "availability"
        ? queries.errorRate(window)
        : // Requests equal to the bound count in the next bucket in TF Serving, so le=T counts those strictly faster.
          `(${successes(window)} - ${fastEnough(window)})`,
    /** All events per second over the window: requests, or successful REST predict calls for latency. */
    allRate: (window: Window) => (slo === "availability" ? queries.requestRate(window) : successes(window)),
    /** Sloth's SLI: the share of bad events over the window, 0..1. */
    sliErrorRatio: (window: Window) =>
      RAW_SLI_WINDOWS.includes(window)
        ? slo === "availability"
          ? `${queries.errorRate(window)} / (${queries.requestRate(window)} > 0)`
          : `(${successes(window)} - ${fastEnough(window)}) / (${successes(window)} > 0)`
        : `sum_over_time(${SLO_EVENTS.bad}${filter}[${window}]) / (sum_over_time(${SLO_EVENTS.all}${filter}[${window}]) > 0)`,
    /** Sloth's period SLI: the mean of the 5m ratios over the period (Sloth's optimised rule). */
    periodSliErrorRatio: (period: Window) =>
      `sum_over_time(${SLOTH.sliErrorRatio("5m")}${filter}[${period}]) / ignoring (sloth_window) count_over_time(${SLOTH.sliErrorRatio("5m")}${filter}[${period}])`,
    currentBurnRate: overBudget(SLOTH.sliErrorRatio("5m")),
    periodBurnRate: (period: Window) => overBudget(SLOTH.sliErrorRatio(period)),
    periodErrorBudgetRemaining: `1 - ${SLOTH.periodBurnRate}${filter}`,
    /** Fires while either arm's both windows burn faster than its factor; the window label is dropped so the alert keeps one identity. */
    burnAlert: (arms: BurnCondition[], budget: number) =>
      arms
        .map(
          ({ short, long, factor }) =>
            `(max without (sloth_window) (${SLOTH.sliErrorRatio(short)}${filter} > (${factor} * ${budget}))` +
            ` and max without (sloth_window) (${SLOTH.sliErrorRatio(long)}${filter} > (${factor} * ${budget})))`,
        )
        .join(" or "),
    // What the dashboard's SLO row shows, read from the recorded series.
    objective: `${SLOTH.objective}${filter}`,
    periodSli: (period: Window) => `1 - ${SLOTH.sliErrorRatio(period)}${filter}`,
    errorBudgetRemaining: `${SLOTH.periodErrorBudgetRemaining}${filter}`,
    /** Burn rate over a window: its error ratio in units of the budget (1 = spends exactly the budget over the period). */
    burnRate: (window: Window) => (window === "5m" ? `${SLOTH.currentBurnRate}${filter}` : overBudget(SLOTH.sliErrorRatio(window))),
  };
}
