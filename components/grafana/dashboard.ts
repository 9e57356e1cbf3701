import { createHash } from "node:crypto";
import * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import * as units from "@grafana/grafana-foundation-sdk/units";
import { StackConfig } from "../config/stackConfig";
import { AlertThresholds, detectorSeries, edgeQueries, internalsQueries, servingQueries } from "../monitoring/promql";
import { SloDashboardInput, sloDashboardInput, withSloRow } from "../slo/dashboard";
import { deployAnnotationQuery } from "./deployMarker";
import { insightPanels } from "./insightPanels";

/** Panel titles are a contract: tests and the end-to-end suite find panels by them. */
export const PANEL_TITLES = {
  totalRequests: "Total API requests",
  requestsByStatus: "Requests by status",
  throughput: "Throughput",
  errors: "Errors per second and error ratio",
  meanLatency: "Average latency (REST predict)",
  latencyQuantiles: "p95 and p99 latency (REST predict)",
  lowTraffic: "Low-traffic detector",
  spike: "Spike detector",
  alerts: "Prometheus alerts",
  replicaThroughput: "Throughput per replica",
  replicaLatency: "p95 latency per replica (REST predict)",
  edgeResponses: "Responses at the edge by code",
} as const;

export type DashboardThresholds = Pick<AlertThresholds, "lowTrafficThresholdRps" | "spikeFactor" | "errorRatioThreshold" | "latencyP95ThresholdMs">;

export interface DashboardInput {
  title: string;
  /** Grafana's limit: 40 characters of letters, digits, `-` and `_`. */
  uid: string;
  modelName: string;
  /** The TF Serving scrape job. */
  jobName: string;
  dataSourceUid: string;
  /** The alert list filters rule sources by data source name. */
  dataSourceName: string;
  /** The alert thresholds, drawn on the panels whose alerts use them. */
  thresholds: DashboardThresholds;
  /** TF Serving runs with --enable_batching: the batching panel is shown. */
  batching?: boolean;
  /** The served version ships warm-up requests: the warm-up query is shown. */
  warmup?: boolean;
  /** The SLOs, shown in a row of their own; no row without them. */
  slo?: SloDashboardInput;
}

const UID_MAX = 40;

/** `tfserving-<model>`; a long model name is cut and suffixed with a hash of the whole name, so it stays unique. */
export function dashboardUid(modelName: string): string {
  const uid = `tfserving-${modelName}`;
  if (uid.length <= UID_MAX) return uid;
  const hash = createHash("sha256").update(modelName).digest("hex").slice(0, 8);
  return `${uid.slice(0, UID_MAX - hash.length - 1)}-${hash}`;
}

/** The dashboard a stack's config asks for, reading the given data source. */
export function dashboardInput(config: StackConfig, dataSource: { uid: string; name: string }, served: { warmup?: boolean } = {}): DashboardInput {
  return {
    title: config.dashboardTitle,
    uid: dashboardUid(config.modelName),
    modelName: config.modelName,
    jobName: config.scrapeJobName,
    dataSourceUid: dataSource.uid,
    dataSourceName: dataSource.name,
    thresholds: {
      lowTrafficThresholdRps: config.lowTrafficThresholdRps,
      spikeFactor: config.spikeFactor,
      errorRatioThreshold: config.errorRatioThreshold,
      latencyP95ThresholdMs: config.latencyP95ThresholdMs,
    },
    batching: config.batching !== undefined,
    warmup: served.warmup ?? false,
    slo: sloDashboardInput(config),
  };
}

/** The dashboard model for Grafana's dashboard API: no id or version (Grafana owns those), no nulls. */
export function buildDashboard(input: DashboardInput): dashboard.Dashboard {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(input.uid)) throw new Error(`dashboard uid "${input.uid}" must be 1-40 letters, digits, - or _`);
  const queries = servingQueries(input.modelName, input.jobName);
  const detectors = detectorSeries(queries, input.thresholds);
  const edge = edgeQueries(input.jobName);
  const source: common.DataSourceRef = { type: "prometheus", uid: input.dataSourceUid };
  const query = (refId: string, expr: string, legend: string) =>
    new prometheus.DataqueryBuilder()
      .datasource(source)
      .refId(refId)
      .expr(expr)
      .legendFormat(legend)
      // Code mode shows the module's query text verbatim instead of re-rendering it in the builder.
      .editorMode(prometheus.QueryEditorMode.Code)
      .range();
  const graph = (id: number, title: string, unit: string) =>
    new timeseries.PanelBuilder()
      .id(id)
      .title(title)
      .datasource(source)
      .unit(unit)
      .min(0)
      .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
      .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
      .height(8);
  const { thresholds } = input;

  const board = new dashboard.DashboardBuilder(input.title)
    .uid(input.uid)
    .description(`TensorFlow Serving metrics of model ${input.modelName} (scrape job ${input.jobName}), managed by Pulumi.`)
    .tags(["tfserving", input.modelName])
    .time({ from: "now-1h", to: "now" })
    .refresh("30s")
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(deployAnnotationQuery(input.modelName))
    .withPanel(
      new stat.PanelBuilder()
        .id(1)
        .title(PANEL_TITLES.totalRequests)
        .description("Requests since the server started, every status; resets when TF Serving restarts.")
        .datasource(source)
        .withTarget(query("A", queries.totalRequests, "requests"))
        .unit(units.Short)
        .decimals(0)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
        .graphMode(common.BigValueGraphMode.Area)
        // A count has no good or bad level, so no threshold colours.
        .colorMode(common.BigValueColorMode.None)
        .thresholds(steps([base("blue")]))
        .height(8)
        .span(6),
    )
    .withPanel(
      graph(2, PANEL_TITLES.requestsByStatus, units.Short)
        .description("Requests since start by status: OK or an error code name such as INVALID_ARGUMENT.")
        .withTarget(query("A", queries.requestsByStatus, "{{status}}"))
        .decimals(0)
        .span(9),
    )
    .withPanel(
      graph(3, PANEL_TITLES.throughput, units.RequestsPerSecond)
        .description("Requests per second, every status: the 1m rate reacts fast, the 5m rate is smoother.")
        .withTarget(query("A", queries.requestRate("1m"), "rate over 1m"))
        .withTarget(query("B", queries.requestRate("5m"), "rate over 5m"))
        .span(9),
    )
    .withPanel(
      graph(4, PANEL_TITLES.errors, units.RequestsPerSecond)
        .description(`Failed requests (status != OK) per second, and their share of all requests against the alert threshold of ${percent(thresholds.errorRatioThreshold)}.`)
        .withTarget(query("A", queries.errorRate("5m"), "errors/s (5m)"))
        .withTarget(query("B", queries.errorRatio("5m"), "error ratio (5m)"))
        // The ratio gets its own axis and unit; the alert threshold only makes sense against it.
        .overrideByQuery("B", [
          { id: "unit", value: units.PercentUnit },
          { id: "max", value: 1 },
          { id: "custom.axisPlacement", value: common.AxisPlacement.Right },
          { id: "thresholds", value: steps([base("green"), step(thresholds.errorRatioThreshold, "red")]).build() },
          { id: "custom.thresholdsStyle", value: thresholdLine().build() },
        ])
        .span(12),
    )
    .withPanel(
      // Data-source-managed rules: Grafana reads them from Prometheus, so there is one copy of each rule.
      new dashboard.PanelBuilder()
        .type("alertlist")
        .id(5)
        .title(PANEL_TITLES.alerts)
        .description(`Rules evaluated by Prometheus (data source ${input.dataSourceName}), firing first.`)
        .options({
          viewMode: "list",
          groupMode: "default",
          groupBy: [],
          maxItems: 20,
          sortOrder: 3, // importance: firing, then pending, then normal
          dashboardAlerts: false,
          alertName: "",
          alertInstanceLabelFilter: "",
          datasource: input.dataSourceName,
          showInstances: true,
          stateFilter: { firing: true, pending: true, recovering: true, noData: true, normal: true, error: true },
        })
        .height(8)
        .span(12),
    )
    .withPanel(
      graph(6, PANEL_TITLES.meanLatency, units.Milliseconds)
        .description("Mean latency of successful REST predict calls over 5m (TF Serving records microseconds; shown in ms).")
        .withTarget(query("A", queries.meanLatencyMs("5m"), "mean (5m)"))
        .span(12),
    )
    .withPanel(
      graph(7, PANEL_TITLES.latencyQuantiles, units.Milliseconds)
        .description(`Tail latency of successful REST predict calls over 5m; the line is the p95 alert threshold (${thresholds.latencyP95ThresholdMs} ms).`)
        .withTarget(query("A", queries.latencyQuantileMs(0.95, "5m"), "p95"))
        .withTarget(query("B", queries.latencyQuantileMs(0.99, "5m"), "p99"))
        .thresholds(steps([base("green"), step(thresholds.latencyP95ThresholdMs, "red")]))
        .thresholdsStyle(thresholdLine())
        .span(12),
    )
    .withPanel(
      graph(8, PANEL_TITLES.lowTraffic, units.RequestsPerSecond)
        .description(`The 5m request rate (0 without any series); the low-traffic alert fires below ${thresholds.lowTrafficThresholdRps} req/s.`)
        .withTarget(query("A", detectors.lowTrafficRate, "rate over 5m"))
        .thresholds(steps([base("red"), step(thresholds.lowTrafficThresholdRps, "green")]))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.DashedAndArea))
        .span(12),
    )
    .withPanel(
      graph(9, PANEL_TITLES.spike, units.RequestsPerSecond)
        .description(`The spike alert fires while the 1m rate is above ${thresholds.spikeFactor}x the 15m rate (and the 15m rate is above its minimum baseline).`)
        .withTarget(query("A", detectors.spikeRate, "rate over 1m"))
        .withTarget(query("B", detectors.spikeLimit, `${thresholds.spikeFactor}x rate over 15m`))
        .overrideByQuery("B", [{ id: "custom.lineStyle", value: new common.LineStyleBuilder().fill("dash").dash([10, 10]).build() }])
        .span(12),
    )
    .withPanel(
      graph(10, PANEL_TITLES.replicaThroughput, units.RequestsPerSecond)
        .description(
          "Requests per second of each serving replica over 1m (metricsMode push: each replica's agent labels its series with replica). " +
            "Uneven lines mean the load balancer or one replica misbehaves; the totals above stay correct either way.",
        )
        .withTarget(query("A", queries.requestRateByReplica("1m"), "{{replica}}"))
        .span(12),
    )
    .withPanel(
      graph(11, PANEL_TITLES.replicaLatency, units.Milliseconds)
        .description(`p95 of successful REST predict calls per replica over 5m; the line is the p95 alert threshold (${thresholds.latencyP95ThresholdMs} ms), which applies to all replicas together.`)
        .withTarget(query("A", queries.latencyQuantileMsByReplica(0.95, "5m"), "{{replica}}"))
        .thresholds(steps([base("green"), step(thresholds.latencyP95ThresholdMs, "red")]))
        .thresholdsStyle(thresholdLine())
        .span(12),
    )
    .withPanel(
      graph(12, PANEL_TITLES.edgeResponses, units.RequestsPerSecond)
        .description(
          "Answers of the front door (Caddy) per second over 5m by HTTP status: 401 missing or unknown API key, 404 other routes and models, " +
            "413 bodies above maxRequestBodyBytes, 5xx TF Serving unreachable or failing. TF Serving never sees the refused ones.",
        )
        .withTarget(query("A", edge.responseRateByCode("5m"), "{{code}}"))
        .span(24),
    );
  const internals = internalsQueries(input.modelName);
  for (const panel of insightPanels({ queries, internals, batching: input.batching ?? false, warmup: input.warmup ?? false, graph, query })) board.withPanel(panel);
  // A row groups the panels below it: the SLO row comes last.
  const kit = { source, dataSourceName: input.dataSourceName, query, steps, base, step };
  return (input.slo ? withSloRow(board, input.slo, kit) : board).build();
}

/** The dashboard as the provider's configJson: same input, same text, so `pulumi up` never sees a diff. */
export function dashboardJson(input: DashboardInput): string {
  return JSON.stringify(buildDashboard(input));
}

function steps(list: dashboard.Threshold[]): cog.Builder<dashboard.ThresholdsConfig> {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(list);
}

/**
 * The first step has no value: Grafana treats it as -Infinity, and the `null` it usually serializes
 * to is exactly what this dashboard avoids. Grafana's schema declares the value optional; the SDK's
 * type does not, hence the cast.
 */
function base(color: string): dashboard.Threshold {
  return { color } as dashboard.Threshold;
}

function step(value: number, color: string): dashboard.Threshold {
  return { value, color };
}

function thresholdLine(): cog.Builder<common.GraphThresholdsStyleConfig> {
  return new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`;
}
