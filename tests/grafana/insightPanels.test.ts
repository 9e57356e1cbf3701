import * as fs from "node:fs";
import * as path from "node:path";
import { parseStackConfig } from "../../components/config/stackConfig";
import { dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { INSIGHT_PANEL_TITLES } from "../../components/grafana/insightPanels";
import { RECORDED, RECORDED_INTERNALS, internalsQueries, servingQueries } from "../../components/monitoring/promql";
import { WARMUP_REQUESTS_FILE } from "../../components/serving/modelDir";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { runProgram } from "../support/program";

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { refId: string; expr: string; legendFormat?: string }[];
  fieldConfig?: { defaults: { unit?: string }; overrides: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] };
}

const panelsOf = (values: Record<string, string>, warmup = false) => {
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...values } });
  return { config, panels: (JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE, { warmup }))) as { panels: Panel[] }).panels };
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

  it("queries warm-up time only when the served version ships warm-up requests", () => {
    expect(exprs(INSIGHT_PANEL_TITLES.loadTime)).toEqual([internals.loadSecondsByPath]);
    const withWarmup = panelsOf({}, true).panels.find((candidate) => candidate.title === INSIGHT_PANEL_TITLES.loadTime)!;
    expect(withWarmup.targets!.map((target) => target.expr)).toEqual([internals.loadSecondsByPath, internals.warmupSecondsByPath]);
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

describe("the program tells the dashboard whether the served version warms up", () => {
  const warmupQuery = (configJson: string) => configJson.includes("model_warmup_latency");
  const dashboardOf = async (versions: string[], warmupIn?: string) => {
    const modelDir = makeModelDir(versions, (root) => {
      if (warmupIn) {
        fs.mkdirSync(path.join(root, warmupIn, "assets.extra"), { recursive: true });
        fs.writeFileSync(path.join(root, warmupIn, ...WARMUP_REQUESTS_FILE.split("/")), "records");
      }
    });
    try {
      const run = await runProgram({ stack: "dev", config: { modelDir } });
      return run.one("grafana:oss/dashboard:Dashboard").inputs.configJson as string;
    } finally {
      removeDir(modelDir);
    }
  };

  it("shows warm-up time for a served version with warm-up requests, not for one without (an older version's file does not count)", async () => {
    expect(warmupQuery(await dashboardOf(["1"], "1"))).toBe(true);
    expect(warmupQuery(await dashboardOf(["1"]))).toBe(false);
    expect(warmupQuery(await dashboardOf(["1", "2"], "1"))).toBe(false);
  });
});
