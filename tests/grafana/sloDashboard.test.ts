import { parser } from "@prometheus-io/lezer-promql";
import { parseStackConfig } from "../../components/config/stackConfig";
import { DashboardInput, PANEL_TITLES, dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { sloQueries } from "../../components/monitoring/promql";
import { SLO_PANEL_TITLES } from "../../components/slo/dashboard";
import { SLO_ALERTS } from "../../components/slo/rules";

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string; legendFormat?: string }[];
  options?: Record<string, unknown>;
  fieldConfig?: { defaults: { unit?: string; thresholds?: { steps: { value?: number; color: string }[] } } };
}

// Objectives and threshold away from the config defaults, so a hard-coded default in the builder would show.
const input: DashboardInput = {
  title: "Diabetes_Prediction-monitoring",
  uid: "tfserving-diabetes-prediction",
  modelName: "diabetes-prediction",
  jobName: "tf-serving-local",
  dataSourceUid: "ds-uid-under-test",
  dataSourceName: "Prometheus under test",
  thresholds: { lowTrafficThresholdRps: 0.02, spikeFactor: 4, errorRatioThreshold: 0.1, latencyP95ThresholdMs: 250 },
  slo: { modelName: "diabetes-prediction", availabilityObjective: 0.995, latencyObjective: 0.98, latencyThresholdUs: 218591, period: "30d" },
};
const panelsOf = (dashboardInput: DashboardInput) => (JSON.parse(dashboardJson(dashboardInput)) as { panels: Panel[] }).panels;
const panels = panelsOf(input);
const panel = (title: string): Panel => {
  const matches = panels.filter((candidate) => candidate.title === title);
  if (matches.length !== 1) throw new Error(`expected one panel titled ${title}, found ${matches.length}`);
  return matches[0];
};
const SLOS = ["availability", "latency"] as const;
const sloTitles = [
  SLO_PANEL_TITLES.row("30d"),
  ...SLOS.flatMap((slo) => [SLO_PANEL_TITLES.objective(slo), SLO_PANEL_TITLES.sli(slo), SLO_PANEL_TITLES.budget(slo), SLO_PANEL_TITLES.burnRate(slo)]),
  SLO_PANEL_TITLES.alerts,
];

describe("the dashboard's SLO row", () => {
  it("comes last (a row groups every panel below it): a row, then each SLO's four panels, then the budget-burn alert list, all with distinct ids", () => {
    const titles = panels.map((candidate) => candidate.title);
    const rowIndex = titles.indexOf(SLO_PANEL_TITLES.row("30d"));
    expect(titles.slice(rowIndex)).toEqual(sloTitles);
    expect(titles.slice(0, rowIndex)).toEqual(expect.arrayContaining(Object.values(PANEL_TITLES)));
    expect(new Set(panels.map((candidate) => candidate.id)).size).toBe(panels.length);
    const row = panel(SLO_PANEL_TITLES.row("30d"));
    expect(row.type).toBe("row");
    const mainBottom = Math.max(...panels.filter((candidate) => !sloTitles.includes(candidate.title)).map((candidate) => candidate.gridPos.y + candidate.gridPos.h));
    expect(row.gridPos).toEqual({ x: 0, y: mainBottom, w: 24, h: 1 });
    for (const title of sloTitles.slice(1)) expect({ title, below: panel(title).gridPos.y > row.gridPos.y }).toEqual({ title, below: true });
  });

  it.each(SLOS)("%s: objective, SLI over the period, budget left and burn rate now/1h/6h, from the PromQL module", (slo) => {
    const queries = sloQueries("diabetes-prediction", slo, 218591);
    const exprs = (title: string) => panel(title).targets!.map((target) => target.expr);
    expect(exprs(SLO_PANEL_TITLES.objective(slo))).toEqual([queries.objective]);
    expect(exprs(SLO_PANEL_TITLES.sli(slo))).toEqual([queries.periodSli("30d")]);
    expect(exprs(SLO_PANEL_TITLES.budget(slo))).toEqual([queries.errorBudgetRemaining]);
    expect(exprs(SLO_PANEL_TITLES.burnRate(slo))).toEqual([queries.burnRate("5m"), queries.burnRate("1h"), queries.burnRate("6h")]);
    expect(panel(SLO_PANEL_TITLES.burnRate(slo)).targets!.map((target) => target.legendFormat)).toEqual(["now (5m)", "1h", "6h"]);
    for (const title of [SLO_PANEL_TITLES.objective(slo), SLO_PANEL_TITLES.sli(slo), SLO_PANEL_TITLES.budget(slo)]) {
      expect(panel(title).fieldConfig!.defaults.unit).toBe("percentunit");
    }
    for (const expr of [...exprs(SLO_PANEL_TITLES.burnRate(slo)), queries.periodSli("30d"), queries.errorBudgetRemaining]) {
      const errors: string[] = [];
      parser.parse(expr).iterate({ enter: (node) => void (node.type.isError && errors.push(expr.slice(node.from))) });
      expect(errors).toEqual([]);
    }
  });

  it("colours the SLI red below the objective from its input, and draws the four alert factors on the burn rates", () => {
    const steps = (title: string) => panel(title).fieldConfig!.defaults.thresholds!.steps;
    expect(steps(SLO_PANEL_TITLES.sli("availability"))).toEqual([{ color: "red" }, { value: 0.995, color: "green" }]);
    expect(steps(SLO_PANEL_TITLES.sli("latency"))).toEqual([{ color: "red" }, { value: 0.98, color: "green" }]);
    expect(steps(SLO_PANEL_TITLES.burnRate("latency")).map((step) => step.value)).toEqual([undefined, 1, 3, 6, 14.4]);
    const monthOfFourWeeks = panelsOf({ ...input, slo: { ...input.slo!, period: "28d" } });
    const burn = monthOfFourWeeks.find((candidate) => candidate.title === SLO_PANEL_TITLES.burnRate("availability"))!;
    expect(burn.fieldConfig!.defaults.thresholds!.steps.map((step) => step.value)).toEqual([undefined, 0.9333333333, 2.8, 5.6, 13.44]);
    expect(burn.targets![0].expr).toBe(sloQueries("diabetes-prediction", "availability", 218591).burnRate("5m"));
    expect(monthOfFourWeeks.find((candidate) => candidate.title === SLO_PANEL_TITLES.sli("availability"))!.targets![0].expr).toContain("ratio_rate28d");
  });

  it("lists the model's budget-burn alerts, both of them, from this data source", () => {
    const alerts = panel(SLO_PANEL_TITLES.alerts);
    expect(alerts.type).toBe("alertlist");
    expect(alerts.options).toMatchObject({ datasource: "Prometheus under test", alertName: "BudgetBurn", alertInstanceLabelFilter: '{sloth_service="diabetes-prediction"}' });
    for (const name of Object.values(SLO_ALERTS)) expect(name).toContain(alerts.options!.alertName);
  });

  it("is part of the dashboard a stack's config asks for, with the config's objectives", () => {
    const config = parseStackConfig({ stack: "dev", projectDir: "/p", values: { modelDir: "m", sloAvailabilityObjective: "0.99" } });
    const fromConfig = panelsOf(dashboardInput(config, { uid: "u", name: "n" }));
    const sli = fromConfig.find((candidate) => candidate.title === SLO_PANEL_TITLES.sli("availability"))!;
    expect(sli.fieldConfig!.defaults.thresholds!.steps).toEqual([{ color: "red" }, { value: 0.99, color: "green" }]);
    expect(panelsOf({ ...input, slo: undefined }).some((candidate) => sloTitles.includes(candidate.title))).toBe(false);
  });
});
