import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import * as units from "@grafana/grafana-foundation-sdk/units";
import { InternalsQueries, MODEL_VERSION_LABEL, RECORDED, RECORDED_INTERNALS, ServingQueries } from "../monitoring/promql";

/** Panel titles are a contract: tests and the end-to-end suite find panels by them. */
export const INSIGHT_PANEL_TITLES = {
  byVersion: "Requests and p95 by model version",
  runtime: "Request vs model runtime latency",
  batching: "Batching queue latency and batch sizes",
  loads: "Model load attempts by status",
  loadTime: "Model load and warm-up time",
  graphRuns: "Graph runs",
} as const;

/** Far above the dashboard's own ids, so panels another change appends never collide with these. */
const FIRST_ID = 200;

/** How dashboard.ts builds its panels and queries, so these look and read like the rest. */
export interface PanelKit {
  queries: ServingQueries;
  internals: InternalsQueries;
  /** TF Serving runs with --enable_batching: only then do the batching families have points. */
  batching: boolean;
  /** The served version ships warm-up requests: only then is a warm-up recorded. */
  warmup: boolean;
  graph(id: number, title: string, unit: string): timeseries.PanelBuilder;
  query(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder;
}

const rightAxis = (unit: string): dashboard.DynamicConfigValue[] => [
  { id: "unit", value: unit },
  { id: "custom.axisPlacement", value: common.AxisPlacement.Right },
];

/** The dashboard's view of what is served and where the time goes inside TF Serving. */
export function insightPanels({ queries, internals, batching, warmup, graph, query }: PanelKit): timeseries.PanelBuilder[] {
  const version = `v{{${MODEL_VERSION_LABEL}}}`;
  const panels = [
    graph(FIRST_ID, INSIGHT_PANEL_TITLES.byVersion, units.RequestsPerSecond)
      .description(
        "Requests per second (1m) and p95 of successful REST predict calls (5m) per served model version. After a deploy both " +
          "versions show until the old one leaves the windows; a step in latency that starts with the new version is the deploy's.",
      )
      .withTarget(query("A", queries.requestRateByVersion("1m"), `${version} req/s`))
      .withTarget(query("B", queries.latencyQuantileMsByVersion(0.95, "5m"), `${version} p95`))
      .overrideByQuery("B", rightAxis(units.Milliseconds))
      .span(12),
    graph(FIRST_ID + 1, INSIGHT_PANEL_TITLES.runtime, units.Milliseconds)
      .description(
        "p95 of the whole REST predict call against p95 of the model's session run alone (5m), and the mean time spent outside " +
          "the model: JSON parsing, tensor conversion, serialization and, with batching, the queue. A wide gap means the " +
          "request handling, not the model, is slow (large JSON payloads: try gRPC or smaller requests).",
      )
      .withTarget(query("A", internals.recorded(RECORDED.p95LatencyMs5m), "request p95"))
      .withTarget(query("B", internals.recorded(RECORDED_INTERNALS.runtimeP95Ms5m), "model runtime p95"))
      .withTarget(query("C", internals.timeOutsideModelMs("5m"), "outside the model (mean)"))
      .span(12),
  ];
  if (batching) {
    panels.push(
      graph(FIRST_ID + 2, INSIGHT_PANEL_TITLES.batching, units.Milliseconds)
        .description(
          "p95 of the time requests wait in TF Serving's batching queue (5m), and the mean rows per incoming request and per " +
            "batch the model ran. Batches near max_batch_size with a growing wait: add batch threads or replicas; batches of " +
            "about one row: batching only adds the wait (lower batch_timeout_micros, or turn batching off).",
        )
        .withTarget(query("A", internals.recorded(RECORDED_INTERNALS.queuingP95Ms5m), "queue wait p95"))
        .withTarget(query("B", internals.meanProcessedBatchSize("5m"), "rows per batch (mean)"))
        .withTarget(query("C", internals.meanInputBatchSize("5m"), "rows per request (mean)"))
        .overrideByQuery("B", rightAxis(units.Short))
        .overrideByQuery("C", rightAxis(units.Short))
        .span(12),
    );
  }
  const loadTime = graph(FIRST_ID + 4, INSIGHT_PANEL_TITLES.loadTime, units.Seconds)
    .description(
      "How long the successful load of each version took, and its warm-up (only for a model that ships " +
        "assets.extra/tf_serving_warmup_requests): the time a new version needs before it answers.",
    )
    .withTarget(query("A", internals.loadSecondsByPath, "load {{model_path}}"))
    .span(12);
  if (warmup) loadTime.withTarget(query("B", internals.warmupSecondsByPath, "warm-up {{model_path}} {{status}}"));
  panels.push(
    graph(FIRST_ID + 3, INSIGHT_PANEL_TITLES.loads, units.Short)
      .description("SavedModel load attempts of this model's versions since TF Serving started, by status (success or fail); any fail is TFServingModelLoadFailed's business.")
      .withTarget(query("A", internals.loadAttemptsByStatus, "{{status}}"))
      .decimals(0)
      .span(12),
    loadTime,
    graph(FIRST_ID + 5, INSIGHT_PANEL_TITLES.graphRuns, units.Milliseconds)
      .description("TensorFlow graph executions: p95 (5m) and mean run time, and runs per second. Runs per second below requests per second: batching merges requests.")
      .withTarget(query("A", internals.recorded(RECORDED_INTERNALS.graphRunP95Ms5m), "p95"))
      .withTarget(query("B", internals.meanGraphRunMs("5m"), "mean"))
      .withTarget(query("C", internals.graphRunRate("1m"), "runs/s"))
      .overrideByQuery("C", rightAxis(units.RequestsPerSecond))
      .span(12),
  );
  return panels;
}
