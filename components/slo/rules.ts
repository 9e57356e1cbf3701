import type { StackConfig } from "../config/stackConfig";
import { SLOTH, SLO_EVENTS, SloName, Window, sloQueries } from "../monitoring/promql";
import type { AlertName, AlertingRule, RecordingRule, RuleGroup } from "../monitoring/rules";
import { runbookUrl } from "../monitoring/rules";
import { BURN_ALERTS, PERIOD_DAYS, SLI_WINDOWS, SloPeriod, burnFactor } from "./windows";

/** The budget-burn alert of each SLO; each fires as a page (critical) and as a ticket (warning). */
export const SLO_ALERTS = {
  availability: "TFServingAvailabilityBudgetBurn",
  latency: "TFServingLatencyBudgetBurn",
} as const satisfies Record<SloName, AlertName>;

/** What sloth_slo_info says generated the rules (Sloth's own CLI writes its version and `cli-gen-prom`). */
export const SLO_INFO_LABELS = { sloth_mode: "cli-gen-prom", sloth_spec: "prometheus/v1", sloth_version: "tfserving-platform" } as const;

export interface SloRulesInput {
  modelName: string;
  /** The TF Serving scrape job: the alerts carry it, so TFServingTargetDown of the job inhibits them. */
  jobName: string;
  availabilityObjective: number;
  latencyObjective: number;
  /** A TF Serving bucket bound, in microseconds. */
  latencyThresholdUs: number;
  period: SloPeriod;
  runbookBaseUrl?: string;
}

export function sloRulesInput(config: StackConfig): SloRulesInput {
  return {
    modelName: config.modelName,
    jobName: config.scrapeJobName,
    availabilityObjective: config.sloAvailabilityObjective,
    latencyObjective: config.sloLatencyObjective,
    latencyThresholdUs: config.sloLatencyThresholdUs,
    period: config.sloPeriod,
  };
}

/** 1 - objective without float noise (1 - 0.999 is 0.0010000000000000009), so rules read as the budget they mean. */
export const errorBudget = (objective: number) => Number((1 - objective).toPrecision(12));

const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(10))}`;
const days = (hours: number) => (hours >= 48 ? `${Number((hours / 24).toPrecision(3))} days` : `${Number(hours.toPrecision(3))} hours`);

/**
 * Sloth's three groups per SLO (SLI recordings, meta recordings, alerts), with its group and rule names
 * and labels: every window's error ratio, the period's, the objective, budget and burn rates, and
 * sloth_slo_info, then the budget-burn alert as a page and a ticket.
 */
export function sloRuleGroups(input: SloRulesInput): RuleGroup<RecordingRule | AlertingRule>[] {
  return (["availability", "latency"] as const).flatMap((slo) => {
    const objective = slo === "availability" ? input.availabilityObjective : input.latencyObjective;
    const budget = errorBudget(objective);
    const period = input.period as Window;
    const queries = sloQueries(input.modelName, slo, input.latencyThresholdUs);
    const id = queries.labels.sloth_id;
    const meta = (record: string, expr: string, extra: Record<string, string> = {}): RecordingRule => ({ record, expr, labels: { ...queries.labels, ...extra } });
    const alertName = SLO_ALERTS[slo];
    const what =
      slo === "availability"
        ? `requests to ${input.modelName} answered with a status other than OK (objective ${percent(objective)}% OK)`
        : `successful REST predict calls to ${input.modelName} slower than ${input.latencyThresholdUs / 1000} ms (objective ${percent(objective)}% faster)`;
    const keys = slo === "availability" ? "sloAvailabilityObjective" : "sloLatencyObjective, sloLatencyThresholdMs";
    const alert = (severity: "page" | "ticket"): AlertingRule => {
      const arms = BURN_ALERTS[severity].map((arm) => ({ ...arm, factor: burnFactor(arm, input.period) }));
      const periodHours = PERIOD_DAYS[input.period] * 24;
      const armText = arms
        .map((arm) => `over both ${arm.short} and ${arm.long} above ${arm.factor}x the budget (the whole ${input.period} budget gone in ${days(periodHours / arm.factor)})`)
        .join(", or ");
      return {
        alert: alertName,
        expr: queries.burnAlert(arms, budget),
        labels: { severity: severity === "page" ? "critical" : "warning", sloth_severity: severity, job: input.jobName },
        annotations: {
          summary: `${input.modelName} burns its ${slo} error budget too fast (${severity})`,
          description:
            `The share of ${what} is ${armText}; the budget is ${percent(budget)}% of requests over ${input.period} ` +
            `(tfserving-platform:${keys}, sloPeriod).`,
          runbook_url: runbookUrl(alertName, input.runbookBaseUrl),
        },
      };
    };
    return [
      {
        name: `sloth-slo-sli-recordings-${id}`,
        rules: [
          // First, so the long windows below read this evaluation's rates.
          meta(SLO_EVENTS.bad, queries.badRate("5m")),
          meta(SLO_EVENTS.all, queries.allRate("5m")),
          ...SLI_WINDOWS.map((window) => meta(SLOTH.sliErrorRatio(window), queries.sliErrorRatio(window), { sloth_window: window })),
          // Sloth sets only the window here (the 5m series carries the rest); repeating the SLO labels changes no
          // value and keeps two SLOs' period rules apart for promtool's duplicate-rule check.
          meta(SLOTH.sliErrorRatio(period), queries.periodSliErrorRatio(period), { sloth_window: period }),
        ],
      },
      {
        name: `sloth-slo-meta-recordings-${id}`,
        rules: [
          meta(SLOTH.objective, `vector(${objective})`),
          meta(SLOTH.errorBudget, `vector(${budget})`),
          meta(SLOTH.timePeriodDays, `vector(${PERIOD_DAYS[input.period]})`),
          meta(SLOTH.currentBurnRate, queries.currentBurnRate),
          meta(SLOTH.periodBurnRate, queries.periodBurnRate(period)),
          meta(SLOTH.periodErrorBudgetRemaining, queries.periodErrorBudgetRemaining),
          meta(SLOTH.info, "vector(1)", { ...SLO_INFO_LABELS, sloth_objective: percent(objective) }),
        ],
      },
      { name: `sloth-slo-alerts-${id}`, rules: [alert("page"), alert("ticket")] },
    ];
  });
}
