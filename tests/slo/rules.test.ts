/**
 * The SLO rules under promtool: each budget-burn alert just above and just below each burn factor, the
 * long and the short window of each arm on their own, the end of a burn, the 5-minute page of a 20%
 * failure, and no data, for both SLOs, in scrape mode (one series per status, `le` as TF Serving prints
 * it) and in push mode (two replicas' series, `le` as Prometheus 3 stores it).
 */
import * as fs from "node:fs";
import { parseStackConfig } from "../../components/config/stackConfig";
import { SLOTH, SloName, sloLabels } from "../../components/monitoring/promql";
import { AlertingRule, RuleGroups, renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { SLO_ALERTS, SLO_INFO_LABELS, errorBudget } from "../../components/slo/rules";
import { promtool, tempDir, writeFile } from "../support/promtool";
import { runPromtoolTests } from "../support/ruleTests";

const MODES = ["scrape", "push"] as const;
type Mode = (typeof MODES)[number];
const configOf = (mode: Mode) => parseStackConfig({ stack: "prod", projectDir: "/project", values: { modelDir: "model", metricsMode: mode } });
const config = configOf("scrape");
const MODEL = config.modelName;
const JOB = config.scrapeJobName;
const budgetOf = (slo: SloName) => errorBudget(slo === "availability" ? config.sloAvailabilityObjective : config.sloLatencyObjective);

/** Requests per minute in every scenario: enough that a ratio is exact to many digits. */
const PER_MINUTE = 120;
const HOUR = 60;
const DAY = 24 * HOUR;
/** A stretch of traffic: `burn` is the bad share in units of the budget (1 = spends exactly the budget over the period). */
interface Segment {
  minutes: number;
  burn: number;
  /** No request at all: the counters stay where they are. */
  quiet?: boolean;
  /** Sampled every 2 minutes instead of every minute: long history stays cheap for promtool, and rate() over it is the same. */
  sparse?: boolean;
  /** Requests per minute in units of PER_MINUTE (1 unless set). */
  traffic?: number;
}
const clean = (minutes: number): Segment => ({ minutes, burn: 0 });
/**
 * Clean traffic before a burn: 6h at 20x the usual rate (sampled every 2 minutes), so the 1d and 3d windows of the
 * tickets hold far more good requests than a page test's burn, then 6h at the usual rate sampled every
 * minute, so every window a page compares (up to 6h) sees the usual traffic right up to the burn. Short,
 * because promtool evaluates every rule at every step from the start.
 */
const HISTORY = 12 * HOUR;
const WARM_UP: Segment[] = [{ minutes: 6 * HOUR, burn: 0, sparse: true, traffic: 20 }, clean(6 * HOUR)];
const burning = (minutes: number, burn: number): Segment => ({ minutes, burn });
const quiet = (minutes: number): Segment => ({ minutes, burn: 0, quiet: true });

/** A counter sampled every minute, in promtool's expanding notation, rising by `step(segment)` per minute. */
function counterValues(segments: Segment[], step: (segment: Segment) => number): string {
  let value = 0;
  const parts = ["0"];
  for (const segment of segments) {
    const perMinute = step(segment);
    if (segment.sparse) {
      for (let minute = 2; minute <= segment.minutes; minute += 2) parts.push(`_ ${value + perMinute * minute}`);
    } else {
      parts.push(`${value + perMinute}+${perMinute}x${segment.minutes - 1}`);
    }
    value += perMinute * segment.minutes;
  }
  return parts.join(" ");
}

/**
 * The series TF Serving (scrape) or two replicas' agents would leave for the SLO's SLI. In push mode r1
 * takes 3/4 of the traffic and as many of the bad events as it can, r2 the rest: only the sum over both
 * replicas has the scenario's ratio.
 */
function inputSeries(mode: Mode, slo: SloName, segments: Segment[]) {
  const budget = budgetOf(slo);
  const replicas = mode === "scrape" ? [{ labels: "", share: 1, first: true }] : ["r1", "r2"].map((replica, index) => ({
    labels: `,job="${JOB}",instance="127.0.0.1:8501",replica="${replica}"`,
    share: index === 0 ? 0.75 : 0.25,
    first: index === 0,
  }));
  // Prometheus 3 stores a scraped histogram's le as 393464.0; TF Serving prints 393464 (promtool keeps input as written).
  const le = mode === "scrape" ? "393464" : "393464.0";
  return replicas.flatMap(({ labels, share, first }) => {
    const all = (segment: Segment) => (segment.quiet ? 0 : PER_MINUTE * share * (segment.traffic ?? 1));
    const allBad = (segment: Segment) => PER_MINUTE * segment.burn * budget;
    const firstBad = (segment: Segment) => Math.min(allBad(segment), PER_MINUTE * replicas[0].share);
    const bad = (segment: Segment) => (first ? firstBad(segment) : allBad(segment) - firstBad(segment));
    if (slo === "availability") {
      const requests = (status: string) => `:tensorflow:serving:request_count{model_name="${MODEL}",status="${status}"${labels}}`;
      return [
        { series: requests("OK"), values: counterValues(segments, (segment) => all(segment) - bad(segment)) },
        { series: requests("UNAVAILABLE"), values: counterValues(segments, bad) },
      ];
    }
    const latency = (suffix: string, extra = "") => `:tensorflow:serving:request_latency_${suffix}{model_name="${MODEL}",API="predict",entrypoint="REST"${labels}${extra}}`;
    return [
      { series: latency("count"), values: counterValues(segments, all) },
      { series: latency("bucket", `,le="${le}"`), values: counterValues(segments, (segment) => all(segment) - bad(segment)) },
    ];
  });
}

type Severity = "page" | "ticket";
interface SloCase {
  name: string;
  segments: Segment[];
  /** Minutes since the start -> the severities firing then. */
  expect: [number, Severity[]][];
  /** Only for this SLO; both otherwise. */
  only?: SloName;
}

const cases: SloCase[] = [
  // Page, quick arm (14.4x over 1h and 5m). The 6h arm and the tickets stay below their factors at these times.
  { name: "14.4x arm: 15.1x for 70m pages", segments: [...WARM_UP, burning(70, 14.4 * 1.05)], expect: [[HISTORY + 30, []], [HISTORY + 70, ["page"]]] },
  { name: "14.4x arm: 13.7x for 70m does not page", segments: [...WARM_UP, burning(70, 14.4 * 0.95)], expect: [[HISTORY + 70, []]] },
  {
    name: "14.4x arm, short window alone: a 3m spike of 100x (5m above, 1h below) does not page",
    segments: [...WARM_UP, burning(3, 100), clean(10)],
    expect: [[HISTORY + 5, []], [HISTORY + 10, []]],
  },
  {
    name: "14.4x arm, long window alone: 25x for 50m pages, and 10m after it ends (1h still above, 5m clean) no longer does",
    segments: [...WARM_UP, burning(50, 25), clean(20)],
    expect: [[HISTORY + 50, ["page"]], [HISTORY + 60, []]],
  },
  // Page, slow arm (6x over 6h and 30m).
  { name: "6x arm: 6.3x for 6h10m pages", segments: [...WARM_UP, burning(370, 6 * 1.05)], expect: [[HISTORY + 300, []], [HISTORY + 370, ["page"]]] },
  { name: "6x arm: 5.7x for 6h10m does not page", segments: [...WARM_UP, burning(370, 6 * 0.95)], expect: [[HISTORY + 370, []]] },
  {
    name: "6x arm, short window alone: 10x for 40m (30m above, 6h below) does not page",
    segments: [...WARM_UP, burning(40, 10)],
    expect: [[HISTORY + 40, []]],
  },
  {
    name: "6x arm, long window alone: 10x for 5h pages, and 35m after it ends (6h above, 30m clean) no longer does",
    segments: [...WARM_UP, burning(300, 10), clean(40)],
    expect: [[HISTORY + 300, ["page"]], [HISTORY + 335, []]],
  },
  // Ticket, quick arm (3x over 1d and 2h); a whole day at 3x is also 1x over 3d, so both arms agree here.
  { name: "3x arm: 3.15x for 1d10m files a ticket", segments: [...WARM_UP, burning(DAY + 10, 3 * 1.05)], expect: [[HISTORY + 20 * HOUR, []], [HISTORY + DAY + 10, ["ticket"]]] },
  { name: "3x arm: 2.85x for 1d10m files none", segments: [...WARM_UP, burning(DAY + 10, 3 * 0.95)], expect: [[HISTORY + DAY + 10, []]] },
  {
    name: "3x arm, short window alone: 5x for 2h (2h above, 1d below) files none",
    segments: [...WARM_UP, burning(2 * HOUR, 5)],
    expect: [[HISTORY + 2 * HOUR, []]],
  },
  // Ticket, slow arm (1x over 3d and 6h).
  { name: "1x arm: 1.05x for 3d10m files a ticket", segments: [burning(3 * DAY + 10, 1.05)], expect: [[3 * DAY + 10, ["ticket"]]] },
  { name: "1x arm: 0.95x for 3d10m files none", segments: [burning(3 * DAY + 10, 0.95)], expect: [[3 * DAY + 10, []]] },
  {
    name: "1x arm, short window alone: 2x for 6h (6h above, 3d below) files none",
    segments: [...WARM_UP, burning(6 * HOUR, 2)],
    expect: [[HISTORY + 6 * HOUR, []]],
  },
  {
    name: "ticket arms, long windows alone: 4x for 1d10m files a ticket, and 6h10m after it ends (1d and 3d above, 2h and 6h clean) no longer",
    segments: [...WARM_UP, burning(DAY + 10, 4), clean(6 * HOUR + 20)],
    expect: [[HISTORY + DAY + 10, ["ticket"]], [HISTORY + DAY + 10 + 6 * HOUR + 10, []]],
  },
  // The promise the page makes: 20% of requests failing pages within 5 minutes (1h window: 0.2 x 5/60 > 14.4 x 0.001).
  {
    name: "20% of requests failing pages within 5 minutes; the page resolves once the failures have stopped for 30m (both short windows clean)",
    only: "availability",
    segments: [...WARM_UP, burning(30, 0.2 / budgetOf("availability")), clean(40)],
    expect: [[HISTORY, []], [HISTORY + 5, ["page"]], [HISTORY + 30, ["page"]], [HISTORY + 50, ["page"]], [HISTORY + 65, []]],
  },
];

function alertRule(groups: RuleGroups, slo: SloName, severity: Severity): AlertingRule {
  const rules = groups.slo.flatMap((group) => group.rules).filter((rule): rule is AlertingRule => "alert" in rule && rule.alert === SLO_ALERTS[slo]);
  return rules.find((rule) => rule.labels.sloth_severity === severity)!;
}

/** Only the SLO's own groups: promtool evaluates every rule at every step, and these tests span days. */
function sloOnly(groups: RuleGroups, slo: SloName): RuleGroups {
  const id = sloLabels(MODEL, slo).sloth_id;
  return { recording: { ...groups.recording, rules: [] }, alerting: { ...groups.alerting, rules: [] }, slo: groups.slo.filter((group) => group.name.endsWith(`-${id}`)) };
}

function promtoolCases(mode: Mode, groups: RuleGroups, slo: SloName) {
  return (
    cases
      .filter((testCase) => !testCase.only || testCase.only === slo)
      .map((testCase) => ({
        name: `${mode} ${slo}: ${testCase.name}`,
        interval: "1m",
        input_series: inputSeries(mode, slo, testCase.segments),
        alert_rule_test: testCase.expect.map(([minutes, severities]) => ({
          eval_time: `${minutes}m`,
          alertname: SLO_ALERTS[slo],
          exp_alerts: severities.map((severity) => {
            const rule = alertRule(groups, slo, severity);
            return { exp_labels: { ...sloLabels(MODEL, slo), ...rule.labels }, exp_annotations: rule.annotations };
          }),
        })),
      }))
  );
}

/** No data fires nothing, and a quiet stretch records no NaN that would spoil the period's SLI. */
function noDataCases(mode: Mode) {
  const sloTests = (["availability", "latency"] as const).map((slo) => {
    const labels = sloLabels(MODEL, slo);
    const filter = `{sloth_id="${labels.sloth_id}"}`;
    return {
      name: `${mode} ${slo}: a quiet hour records no SLI (not NaN), so the period's SLI stays a number`,
      interval: "1m",
      // An hour of clean traffic, an hour without a single request, ten minutes of clean traffic.
      input_series: inputSeries(mode, slo, [clean(HOUR), quiet(HOUR), clean(10)]),
      promql_expr_test: [
        { expr: `${SLOTH.sliErrorRatio("5m")}${filter}`, eval_time: `${HOUR + 30}m`, exp_samples: [] },
        { expr: `${SLOTH.sliErrorRatio("30d")}${filter}`, eval_time: `${2 * HOUR + 10}m`, exp_samples: [{ labels: `${SLOTH.sliErrorRatio("30d")}{${labelText({ ...labels, sloth_window: "30d" })}}`, value: 0 }] },
        { expr: `${SLOTH.periodErrorBudgetRemaining}${filter}`, eval_time: `${2 * HOUR + 10}m`, exp_samples: [{ labels: `${SLOTH.periodErrorBudgetRemaining}{${labelText({ ...labels, sloth_window: "30d" })}}`, value: 1 }] },
      ],
      alert_rule_test: [{ eval_time: `${HOUR + 30}m`, alertname: SLO_ALERTS[slo], exp_alerts: [] }],
    };
  });
  return [
    {
      name: `${mode}: a fresh stack without any TF Serving series fires no budget alert`,
      interval: "1m",
      input_series: [{ series: `up{job="${JOB}"}`, values: "1x300" }],
      alert_rule_test: Object.values(SLO_ALERTS).flatMap((alertname) => [60, 300].map((minutes) => ({ eval_time: `${minutes}m`, alertname, exp_alerts: [] }))),
    },
    ...sloTests,
  ];
}

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(", ");

describe.each(MODES)("SLO rules in %s mode (promtool)", (mode) => {
  const groups = ruleGroups(rulesInput(configOf(mode)));
  let dir: string;
  beforeEach(() => {
    dir = tempDir(`slo-rules-${mode}`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes promtool check rules", () => {
    const result = promtool("check", "rules", writeFile(dir, "tfserving.rules.yml", renderRules(groups)));
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it.each(["availability", "latency"] as const)("%s: the budget-burn alert fires just above each factor and stays silent just below, window by window, and resolves when the burn stops", (slo) => {
    // Evaluated every 5m (every eval_time above is a multiple): a step per minute over days would take promtool minutes.
    const result = runPromtoolTests(dir, sloOnly(groups, slo), promtoolCases(mode, groups, slo), "5m");
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  }, 300_000);

  it("records Sloth's meta series: objective, budget, period, burn rates, budget left and sloth_slo_info", () => {
    const slo = "availability";
    const labels = sloLabels(MODEL, slo);
    const filter = `{sloth_id="${labels.sloth_id}"}`;
    const sample = (metric: string, value: number, extra: Record<string, string> = {}) => ({ labels: `${metric}{${labelText({ ...labels, ...extra })}}`, value });
    const rounded = (value: number, extra: Record<string, string>) => ({ labels: `{${labelText({ ...labels, ...extra })}}`, value });
    // Two hours at 5x the budget: burning now at 5x, the period's ratio too, so 1 - 5 = -4 budgets left.
    const tests = [
      {
        name: `${mode}: meta series`,
        interval: "1m",
        input_series: inputSeries(mode, slo, [burning(2 * HOUR, 5)]),
        promql_expr_test: [
          { expr: `${SLOTH.objective}${filter}`, eval_time: "2h", exp_samples: [sample(SLOTH.objective, 0.999)] },
          { expr: `${SLOTH.errorBudget}${filter}`, eval_time: "2h", exp_samples: [sample(SLOTH.errorBudget, 0.001)] },
          { expr: `${SLOTH.timePeriodDays}${filter}`, eval_time: "2h", exp_samples: [sample(SLOTH.timePeriodDays, 30)] },
                    // Ratios of rates carry float noise: rounded to 1e-9. The burn rates keep their SLI's sloth_window, as in Sloth.
          { expr: `round(${SLOTH.currentBurnRate}${filter}, 1e-9)`, eval_time: "2h", exp_samples: [rounded(5, { sloth_window: "5m" })] },
          { expr: `round(${SLOTH.periodBurnRate}${filter}, 1e-9)`, eval_time: "2h", exp_samples: [rounded(5, { sloth_window: "30d" })] },
          { expr: `round(${SLOTH.periodErrorBudgetRemaining}${filter}, 1e-9)`, eval_time: "2h", exp_samples: [rounded(-4, { sloth_window: "30d" })] },
          { expr: `round(${SLOTH.sliErrorRatio("1h")}${filter}, 1e-9)`, eval_time: "2h", exp_samples: [rounded(0.005, { sloth_window: "1h" })] },
          { expr: `${SLOTH.info}${filter}`, eval_time: "2h", exp_samples: [sample(SLOTH.info, 1, { ...SLO_INFO_LABELS, sloth_objective: "99.9" })] },
        ],
      },
    ];
    const result = runPromtoolTests(dir, groups, tests, "1m");
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  }, 120_000);

  it("fires nothing without data, and records no NaN through a quiet hour", () => {
    const result = runPromtoolTests(dir, groups, noDataCases(mode), "1m");
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  }, 120_000);
});
