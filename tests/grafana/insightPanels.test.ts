import { parseStackConfig } from "../../components/config/stackConfig";
import { dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { INSIGHT_PANEL_TITLES } from "../../components/grafana/insightPanels";
import { RECORDED, RECORDED_INTERNALS, internalsQueries, servingQueries } from "../../components/monitoring/promql";

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { refId: string; expr: string; legendFormat?: string }[];
  fieldConfig?: { defaults: { unit?: string }; overrides: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] };
}

const panelsOf = (values: Record<string, string>) => {
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...values } });
  return { config, panels: (JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE))) as { panels: Panel[] }).panels };
};

describe("panels for the served version and TF Serving's internals", () => {
  const { config, panels } = panelsOf({ enableBatching: "true" });
  const queries = servingQueries(config.modelName, config.scrapeJobName);
  const internals = internalsQueries(config.modelName);
  const panel = (title: string) => panels.find((candidate) => candidate.title === title)!;
  const exprs = (title: string) => panel(title).targets!.map((target) => target.expr);

  it("shows the batching panel only when TF Serving batches", () => {
    expect(panels.map((candidate) => candidate.title)).toEqual(expect.arrayContaining(Object.values(INSIGHT_PANEL_TITLES)));
    const withoutBatching = panelsOf({}).panels.map((candidate) => candidate.title);
    expect(withoutBatching).not.toContain(INSIGHT_PANEL_TITLES.batching);
    expect(withoutBatching).toContain(INSIGHT_PANEL_TITLES.runtime);
  });

  it("keeps every panel id unique, the new ones apart from the dashboard's own", () => {
    const ids = panels.map((candidate) => candidate.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const title of Object.values(INSIGHT_PANEL_TITLES)) expect(panel(title).id).toBeGreaterThanOrEqual(200);
  });

  it("splits requests and p95 by model_version, the p95 on a millisecond axis of its own", () => {
    expect(exprs(INSIGHT_PANEL_TITLES.byVersion)).toEqual([queries.requestRateByVersion("1m"), queries.latencyQuantileMsByVersion(0.95, "5m")]);
    expect(panel(INSIGHT_PANEL_TITLES.byVersion).targets!.map((target) => target.legendFormat)).toEqual(["v{{model_version}} req/s", "v{{model_version}} p95"]);
    const override = panel(INSIGHT_PANEL_TITLES.byVersion).fieldConfig!.overrides.find((candidate) => candidate.matcher.options === "B")!;
    expect(override.properties).toContainEqual({ id: "unit", value: "ms" });
  });

  it("reads histogram quantiles from recorded series, not per refresh", () => {
    expect(exprs(INSIGHT_PANEL_TITLES.runtime)).toEqual([
      internals.recorded(RECORDED.p95LatencyMs5m),
      internals.recorded(RECORDED_INTERNALS.runtimeP95Ms5m),
      internals.timeOutsideModelMs("5m"),
    ]);
    expect(exprs(INSIGHT_PANEL_TITLES.batching)[0]).toBe(internals.recorded(RECORDED_INTERNALS.queuingP95Ms5m));
    expect(exprs(INSIGHT_PANEL_TITLES.graphRuns)[0]).toBe(internals.recorded(RECORDED_INTERNALS.graphRunP95Ms5m));
    const quantilesOnPanels = Object.values(INSIGHT_PANEL_TITLES)
      .filter((title) => title !== INSIGHT_PANEL_TITLES.byVersion)
      .flatMap(exprs)
      .filter((expr) => expr.includes("histogram_quantile"));
    expect(quantilesOnPanels).toEqual([]);
  });

  it("selects load families by the model's version directories, and the recorded series by model", () => {
    expect(internals.loadAttemptsByStatus).toBe(`sum by (status) (:tensorflow:cc:saved_model:load_attempt_count{model_path=~".*/diabetes-prediction/[0-9]+/?"})`);
    expect(internalsQueries("a.b").loadSecondsByPath).toContain(String.raw`model_path=~".*/a\\.b/[0-9]+/?"`);
    expect(internals.recorded(RECORDED_INTERNALS.runtimeP95Ms5m)).toBe(`${RECORDED_INTERNALS.runtimeP95Ms5m}{model_name="diabetes-prediction"}`);
  });

  it("uses ms for latencies, seconds for load time and short for counts", () => {
    const unit = (title: string) => panel(title).fieldConfig!.defaults.unit;
    expect(unit(INSIGHT_PANEL_TITLES.runtime)).toBe("ms");
    expect(unit(INSIGHT_PANEL_TITLES.batching)).toBe("ms");
    expect(unit(INSIGHT_PANEL_TITLES.loads)).toBe("short");
    expect(unit(INSIGHT_PANEL_TITLES.loadTime)).toBe("s");
    expect(unit(INSIGHT_PANEL_TITLES.graphRuns)).toBe("ms");
  });
});
