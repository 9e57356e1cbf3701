import * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import * as units from "@grafana/grafana-foundation-sdk/units";
import type { StackConfig } from "../config/stackConfig";
import { SloName, Window, sloQueries } from "../monitoring/promql";
import { SLO_ALERTS } from "./rules";
import { BURN_ALERTS, SloPeriod, burnFactor } from "./windows";

export interface SloDashboardInput {
  modelName: string;
  availabilityObjective: number;
  latencyObjective: number;
  latencyThresholdUs: number;
  period: SloPeriod;
}

export function sloDashboardInput(config: StackConfig): SloDashboardInput {
  return {
    modelName: config.modelName,
    availabilityObjective: config.sloAvailabilityObjective,
    latencyObjective: config.sloLatencyObjective,
    latencyThresholdUs: config.sloLatencyThresholdUs,
    period: config.sloPeriod,
  };
}

const NAMES: Record<SloName, string> = { availability: "Availability", latency: "Latency" };

/** Panel titles are a contract: tests and the end-to-end suite find panels by them. */
export const SLO_PANEL_TITLES = {
  row: (period: SloPeriod) => `SLOs (${period})`,
  objective: (slo: SloName) => `${NAMES[slo]} objective`,
  sli: (slo: SloName) => `${NAMES[slo]} SLI over the period`,
  budget: (slo: SloName) => `${NAMES[slo]} error budget remaining`,
  burnRate: (slo: SloName) => `${NAMES[slo]} burn rate`,
  alerts: "SLO budget-burn alerts",
} as const;

/** First panel id of the row: far above the main panels', so panels added there never collide. */
const FIRST_ID = 100;

/** What the row takes from the main dashboard: its data source and its threshold helpers. */
export interface PanelKit {
  source: common.DataSourceRef;
  dataSourceName: string;
  query(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder;
  steps(list: dashboard.Threshold[]): cog.Builder<dashboard.ThresholdsConfig>;
  base(color: string): dashboard.Threshold;
  step(value: number, color: string): dashboard.Threshold;
}

/**
 * The SLO row of a model: for each SLO its objective, its SLI over the period, the error budget left, and
 * the burn rate now (5m), over 1h and over 6h against the alert factors; then the budget-burn alerts.
 * Everything reads the Sloth series the SLO rules record (components/slo/rules.ts).
 */
export function withSloRow(board: dashboard.DashboardBuilder, input: SloDashboardInput, kit: PanelKit): dashboard.DashboardBuilder {
  let id = FIRST_ID;
  board.withRow(new dashboard.RowBuilder(SLO_PANEL_TITLES.row(input.period)).id(id++));
  const factors = [...BURN_ALERTS.ticket, ...BURN_ALERTS.page].map((arm) => burnFactor(arm, input.period)).sort((a, b) => a - b);
  const factorColors = ["yellow", "orange", "red", "dark-red"];
  for (const slo of ["availability", "latency"] as const) {
    const queries = sloQueries(input.modelName, slo, input.latencyThresholdUs);
    const objective = slo === "availability" ? input.availabilityObjective : input.latencyObjective;
    const good = slo === "availability" ? "requests answered OK" : `successful REST predict calls faster than ${input.latencyThresholdUs / 1000} ms`;
    const single = (title: string, description: string, expr: string, thresholds: dashboard.Threshold[]) =>
      new stat.PanelBuilder()
        .id(id++)
        .title(title)
        .description(description)
        .datasource(kit.source)
        .withTarget(kit.query("A", expr, slo))
        .unit(units.PercentUnit)
        .decimals(3)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
        .colorMode(common.BigValueColorMode.Value)
        .graphMode(common.BigValueGraphMode.None)
        .thresholds(kit.steps(thresholds))
        .height(6)
        .span(4);
    board
      .withPanel(single(SLO_PANEL_TITLES.objective(slo), `Share of ${good} the ${slo} SLO promises over ${input.period}.`, queries.objective, [kit.base("blue")]))
      .withPanel(
        single(
          SLO_PANEL_TITLES.sli(slo),
          `Share of ${good} over the last ${input.period} (the mean of the 5m ratios, as Sloth records it); red below the objective.`,
          queries.periodSli(input.period as Window),
          [kit.base("red"), kit.step(objective, "green")],
        ),
      )
      .withPanel(
        single(
          SLO_PANEL_TITLES.budget(slo),
          `How much of the ${input.period} error budget (${Number(((1 - objective) * 100).toPrecision(6))}% of requests) is left; negative once it is spent.`,
          queries.errorBudgetRemaining,
          [kit.base("red"), kit.step(0, "orange"), kit.step(0.25, "green")],
        ),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .id(id++)
          .title(SLO_PANEL_TITLES.burnRate(slo))
          .description(
            `How fast the budget burns (1 = exactly the budget over ${input.period}). The lines are the alert factors: ` +
              `the page fires above ${factors[3]}x over 1h (and 5m) or ${factors[2]}x over 6h (and 30m), the ticket above ${factors[1]}x over 1d or ${factors[0]}x over 3d.`,
          )
          .datasource(kit.source)
          .withTarget(kit.query("A", queries.burnRate("5m"), "now (5m)"))
          .withTarget(kit.query("B", queries.burnRate("1h"), "1h"))
          .withTarget(kit.query("C", queries.burnRate("6h"), "6h"))
          .unit(units.Short)
          .min(0)
          .thresholds(kit.steps([kit.base("green"), ...factors.map((factor, index) => kit.step(factor, factorColors[index]))]))
          .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
          .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
          .height(6)
          .span(12),
      );
  }
  return board.withPanel(
    new dashboard.PanelBuilder()
      .type("alertlist")
      .id(id++)
      .title(SLO_PANEL_TITLES.alerts)
      .description(`${Object.values(SLO_ALERTS).join(" and ")}: critical pages, warning tickets (see the README's runbooks).`)
      .options({
        viewMode: "list",
        groupMode: "default",
        groupBy: [],
        maxItems: 20,
        sortOrder: 3,
        dashboardAlerts: false,
        // Grafana matches the alert name as a substring: both budget-burn alerts.
        alertName: "BudgetBurn",
        alertInstanceLabelFilter: `{sloth_service="${input.modelName}"}`,
        datasource: kit.dataSourceName,
        showInstances: true,
        stateFilter: { firing: true, pending: true, recovering: true, noData: true, normal: true, error: true },
      })
      .height(6)
      .span(24),
  );
}
