import { parser } from "@prometheus-io/lezer-promql";
import { DashboardInput, PANEL_TITLES, buildDashboard, dashboardJson, dashboardUid } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE, prometheusDataSourceSettings } from "../../components/grafana/dataSource";
import { INSIGHT_PANEL_TITLES } from "../../components/grafana/insightPanels";
import { RECORDED, RECORDED_INTERNALS, alertExpressions, detectorSeries, edgeQueries, internalsQueries, servingQueries } from "../../components/monitoring/promql";

// Thresholds away from the config defaults, so a hard-coded default in the builder would show.
const thresholds = { lowTrafficThresholdRps: 0.02, spikeFactor: 4, spikeMinBaselineRps: 0.1, errorRatioThreshold: 0.1, latencyP95ThresholdMs: 250 };
const input: DashboardInput = {
  title: "Diabetes_Prediction-monitoring",
  uid: dashboardUid("diabetes-prediction"),
  modelName: "diabetes-prediction",
  jobName: "tf-serving-local",
  dataSourceUid: "ds-uid-under-test",
  dataSourceName: "Prometheus under test",
  thresholds,
};
const queries = servingQueries(input.modelName, input.jobName);
const detectors = detectorSeries(queries, thresholds);

interface Target {
  expr: string;
  refId: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  options?: Record<string, unknown>;
  fieldConfig?: {
    defaults: { unit?: string; thresholds?: { steps: { value?: number; color: string }[] } };
    overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
}

const json = JSON.parse(dashboardJson(input)) as Record<string, unknown> & { panels: Panel[] };
const panel = (title: string): Panel => {
  const matches = json.panels.filter((candidate) => candidate.title === title);
  if (matches.length !== 1) throw new Error(`expected one panel titled ${title}, found ${matches.length}`);
  return matches[0];
};
const exprs = (title: string) => (panel(title).targets ?? []).map((target) => target.expr);
const queryPanels = () => json.panels.filter((candidate) => candidate.type !== "alertlist");

/** Every expression the PromQL module produces for the windows and quantiles the project uses. */
function moduleExpressions(): Set<string> {
  const edge = edgeQueries(input.jobName);
  const all = new Set<string>([queries.totalRequests, queries.requestsByStatus, queries.targetUp]);
  for (const window of ["1m", "5m", "15m"] as const) {
    for (const expr of [
      queries.requestRate(window),
      queries.requestRateByStatus(window),
      queries.errorRate(window),
      queries.errorRatio(window),
      queries.meanLatencyMs(window),
      queries.latencyQuantileMs(0.95, window),
      queries.latencyQuantileMs(0.99, window),
      queries.requestRateByReplica(window),
      queries.latencyQuantileMsByReplica(0.95, window),
      queries.requestRateByVersion(window),
      queries.latencyQuantileMsByVersion(0.95, window),
      edge.responseRateByCode(window),
      edge.serverErrorRatio(window),
    ]) {
      all.add(expr);
    }
  }
  const internals = internalsQueries(input.modelName);
  for (const window of ["1m", "5m"] as const) {
    for (const expr of [
      internals.timeOutsideModelMs(window),
      internals.meanInputBatchSize(window),
      internals.meanProcessedBatchSize(window),
      internals.graphRunRate(window),
      internals.meanGraphRunMs(window),
    ]) {
      all.add(expr);
    }
  }
  for (const expr of [internals.loadAttemptsByStatus, internals.loadSecondsByPath, internals.warmupSecondsByPath]) all.add(expr);
  for (const record of [...Object.values(RECORDED), ...Object.values(RECORDED_INTERNALS)]) all.add(internals.recorded(record));
  for (const expr of Object.values(alertExpressions(queries, thresholds))) all.add(expr);
  for (const expr of Object.values(detectors)) all.add(expr);
  return all;
}

function parseErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${expr.slice(node.from, node.to + 10)}`);
    },
  });
  return errors;
}

/** Every [path, value] in a JSON tree. */
function walk(value: unknown, path = "$"): [string, unknown][] {
  const found: [string, unknown][] = [[path, value]];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...walk(item, `${path}[${index}]`)));
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) found.push(...walk(item, `${path}.${key}`));
  }
  return found;
}

describe("dashboard builder", () => {
  it("is deterministic: the same input gives the same text, whatever the key order of the input", () => {
    const reordered: DashboardInput = {
      thresholds: { latencyP95ThresholdMs: 250, errorRatioThreshold: 0.1, spikeFactor: 4, lowTrafficThresholdRps: 0.02 },
      dataSourceName: input.dataSourceName,
      dataSourceUid: input.dataSourceUid,
      jobName: input.jobName,
      modelName: input.modelName,
      uid: input.uid,
      title: input.title,
    };
    expect(dashboardJson(reordered)).toBe(dashboardJson(input));
    expect(dashboardJson(input)).toBe(JSON.stringify(buildDashboard(input)));
  });

  it("carries the title and a stable uid, no id or version, a refresh and the last hour", () => {
    expect(json.title).toBe("Diabetes_Prediction-monitoring");
    expect(json.uid).toBe("tfserving-diabetes-prediction");
    expect(json).not.toHaveProperty("id");
    expect(json).not.toHaveProperty("version");
    expect(json.refresh).toBe("30s");
    expect(json.time).toEqual({ from: "now-1h", to: "now" });
  });

  it("has no nulls anywhere", () => {
    expect(walk(json).filter(([, value]) => value === null).map(([path]) => path)).toEqual([]);
  });

  it("has each required panel exactly once", () => {
    const titles = json.panels.map((candidate) => candidate.title);
    // Batching is off in this input, so its panel is left out.
    const insight = Object.values(INSIGHT_PANEL_TITLES).filter((title) => title !== INSIGHT_PANEL_TITLES.batching);
    expect([...titles].sort()).toEqual([...Object.values(PANEL_TITLES), ...insight].sort());
    expect(new Set(json.panels.map((candidate) => (candidate as unknown as { id: number }).id)).size).toBe(json.panels.length);
  });

  it("gives every query panel at least one target, with distinct refIds", () => {
    for (const candidate of queryPanels()) {
      expect({ title: candidate.title, hasTargets: (candidate.targets?.length ?? 0) > 0 }).toEqual({ title: candidate.title, hasTargets: true });
      const refIds = candidate.targets!.map((target) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it("takes every expr from the PromQL module, and each parses without error nodes", () => {
    const known = moduleExpressions();
    const all = queryPanels().flatMap((candidate) => (candidate.targets ?? []).map((target) => ({ title: candidate.title, expr: target.expr })));
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const { title, expr } of all) {
      expect({ title, known: known.has(expr) }).toEqual({ title, known: true });
      expect({ title, errors: parseErrors(expr) }).toEqual({ title, errors: [] });
    }
  });

  it("puts the seed's queries on the matching panels", () => {
    expect(exprs(PANEL_TITLES.totalRequests)).toEqual([queries.totalRequests]);
    expect(exprs(PANEL_TITLES.requestsByStatus)).toEqual([queries.requestsByStatus]);
    expect(panel(PANEL_TITLES.requestsByStatus).targets![0].legendFormat).toBe("{{status}}");
    expect(exprs(PANEL_TITLES.throughput)).toEqual([queries.requestRate("1m"), queries.requestRate("5m")]);
    expect(exprs(PANEL_TITLES.errors)).toEqual([queries.errorRate("5m"), queries.errorRatio("5m")]);
    expect(exprs(PANEL_TITLES.meanLatency)).toEqual([queries.meanLatencyMs("5m")]);
    expect(exprs(PANEL_TITLES.latencyQuantiles)).toEqual([queries.latencyQuantileMs(0.95, "5m"), queries.latencyQuantileMs(0.99, "5m")]);
    expect(exprs(PANEL_TITLES.lowTraffic)).toEqual([detectors.lowTrafficRate]);
    expect(exprs(PANEL_TITLES.spike)).toEqual([detectors.spikeRate, detectors.spikeLimit]);
    expect(exprs(PANEL_TITLES.edgeResponses)).toEqual([edgeQueries(input.jobName).responseRateByCode("5m")]);
    expect(detectors.spikeLimit).toContain(`${thresholds.spikeFactor} * ${queries.requestRate("15m")}`);
  });

  it("references the data source by uid everywhere", () => {
    // Annotation queries read Grafana's own annotation store (the deploy markers), not Prometheus.
    const refs = walk(json).filter(([path]) => /\.datasource$/.test(path) && !path.startsWith("$.annotations"));
    // Panels and targets; the alert list's options.datasource is a name filter, checked below.
    const objectRefs = refs.filter(([, value]) => typeof value === "object");
    expect(objectRefs.length).toBeGreaterThanOrEqual(queryPanels().length + 12);
    for (const [path, value] of objectRefs) expect({ path, value }).toEqual({ path, value: { type: "prometheus", uid: "ds-uid-under-test" } });
    for (const candidate of queryPanels()) {
      for (const target of candidate.targets!) expect(target.datasource).toEqual({ type: "prometheus", uid: "ds-uid-under-test" });
    }
  });

  it("shows rates in reqps, latencies in ms, counts as short and the error ratio in percentunit", () => {
    const unit = (title: string) => panel(title).fieldConfig!.defaults.unit;
    expect(unit(PANEL_TITLES.totalRequests)).toBe("short");
    expect(unit(PANEL_TITLES.requestsByStatus)).toBe("short");
    expect(unit(PANEL_TITLES.throughput)).toBe("reqps");
    expect(unit(PANEL_TITLES.errors)).toBe("reqps");
    expect(unit(PANEL_TITLES.meanLatency)).toBe("ms");
    expect(unit(PANEL_TITLES.latencyQuantiles)).toBe("ms");
    expect(unit(PANEL_TITLES.lowTraffic)).toBe("reqps");
    expect(unit(PANEL_TITLES.spike)).toBe("reqps");

    const errors = panel(PANEL_TITLES.errors);
    const ratioRef = errors.targets!.find((target) => target.expr === queries.errorRatio("5m"))!.refId;
    const override = errors.fieldConfig!.overrides.find((candidate) => candidate.matcher.options === ratioRef)!;
    expect(override.matcher.id).toBe("byFrameRefID");
    expect(override.properties).toContainEqual({ id: "unit", value: "percentunit" });
  });

  it("draws the alert thresholds from its input on the panels whose alerts use them", () => {
    const steps = (title: string) => panel(title).fieldConfig!.defaults.thresholds!.steps;
    expect(steps(PANEL_TITLES.latencyQuantiles)).toEqual([{ color: "green" }, { value: 250, color: "red" }]);
    // Low traffic is bad below the threshold, so the colours run the other way.
    expect(steps(PANEL_TITLES.lowTraffic)).toEqual([{ color: "red" }, { value: 0.02, color: "green" }]);
    const ratio = panel(PANEL_TITLES.errors).fieldConfig!.overrides[0].properties.find((property) => property.id === "thresholds");
    expect(ratio!.value).toEqual({ mode: "absolute", steps: [{ color: "green" }, { value: 0.1, color: "red" }] });
    expect(panel(PANEL_TITLES.spike).targets![1].legendFormat).toBe("4x rate over 15m");
  });

  it("lists the Prometheus-managed alerts of this data source", () => {
    const alerts = panel(PANEL_TITLES.alerts);
    expect(alerts.type).toBe("alertlist");
    expect(alerts.options).toMatchObject({ datasource: "Prometheus under test", dashboardAlerts: false, groupMode: "default" });
    expect(alerts.options!.stateFilter).toMatchObject({ firing: true, pending: true });
  });

  it("refuses a uid Grafana would reject", () => {
    expect(() => buildDashboard({ ...input, uid: "has space" })).toThrow(/uid/);
    expect(() => buildDashboard({ ...input, uid: "x".repeat(41) })).toThrow(/uid/);
  });
});

describe("dashboardUid", () => {
  it("derives a readable uid from the model name", () => {
    expect(dashboardUid("diabetes-prediction")).toBe("tfserving-diabetes-prediction");
  });

  it("keeps long names within Grafana's 40 characters and still tells them apart", () => {
    const a = dashboardUid(`${"a".repeat(40)}-one`);
    const b = dashboardUid(`${"a".repeat(40)}-two`);
    for (const uid of [a, b]) expect(uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(a).not.toBe(b);
    expect(dashboardUid(`${"a".repeat(40)}-one`)).toBe(a);
  });
});

describe("Prometheus data source settings", () => {
  const settings = prometheusDataSourceSettings({ url: "http://tfserving-dev-prometheus:9090", scrapeInterval: "7s" });

  it("uses the fixed uid and name, proxies through Grafana's server, and is the default", () => {
    expect(settings).toMatchObject({
      uid: PROMETHEUS_DATA_SOURCE.uid,
      name: PROMETHEUS_DATA_SOURCE.name,
      type: "prometheus",
      url: "http://tfserving-dev-prometheus:9090",
      accessMode: "proxy",
      isDefault: true,
    });
  });

  it("queries with POST at the scrape interval and shows the rules Prometheus evaluates", () => {
    expect(JSON.parse(settings.jsonDataEncoded)).toEqual({ httpMethod: "POST", manageAlerts: true, prometheusType: "Prometheus", timeInterval: "7s" });
    expect(prometheusDataSourceSettings({ url: "http://tfserving-dev-prometheus:9090", scrapeInterval: "7s" }).jsonDataEncoded).toBe(settings.jsonDataEncoded);
  });

  it("rejects a URL with a path, which Grafana would prefix to every API call", () => {
    expect(() => prometheusDataSourceSettings({ url: "http://prometheus:9090/graph", scrapeInterval: "5s" })).toThrow(/without a path/);
  });
});
