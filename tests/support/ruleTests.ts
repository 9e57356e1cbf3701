import { stringify } from "yaml";
import { AlertName, RuleGroups, renderRules } from "../../components/monitoring/rules";
import { promtool, writeFile } from "./promtool";

/** Samples every 15s: `rps` requests per second as a counter, `count` samples long, from `start`. */
export const counter = (rps: number, count: number, start = 0) => `${start}+${rps * 15}x${count}`;

export interface SeriesInput {
  series: string;
  values: string;
}

/** One promtool alert test: the input series, and at each eval_time whether the alert is firing. */
export interface AlertCase {
  name: string;
  alert: AlertName;
  input: SeriesInput[];
  /** eval_time -> whether the alert is firing then. */
  expect: [string, boolean][];
  exprLabels?: Record<string, string>;
}

/** The case as a promtool test: a firing alert carries the rule's own labels and annotations plus the expression's labels. */
export function alertTest(rules: RuleGroups, testCase: AlertCase) {
  const rule = rules.alerting.rules.find((candidate) => candidate.alert === testCase.alert)!;
  return {
    name: testCase.name,
    interval: "15s",
    input_series: testCase.input,
    alert_rule_test: testCase.expect.map(([evalTime, fires]) => ({
      eval_time: evalTime,
      alertname: testCase.alert,
      exp_alerts: fires ? [{ exp_labels: { ...testCase.exprLabels, ...rule.labels }, exp_annotations: rule.annotations }] : [],
    })),
  };
}

/**
 * Writes the rendered rules and a promtool unit-test file into `dir`; returns promtool's verdict.
 * fuzzy_compare lets an expected value differ by one float step (Prometheus 3's rate of 4 req/s is
 * 3.9999999999999996), so expectations stay the exact numbers they mean. Rules spanning days (the SLO
 * tests) evaluate every minute instead of every 15s, so promtool stays quick.
 */
export function runPromtoolTests(dir: string, groups: RuleGroups, tests: unknown[], evaluationInterval = "15s") {
  const rulesFile = writeFile(dir, "tfserving.rules.yml", renderRules(groups));
  const testFile = writeFile(dir, "tfserving.rules.test.yml", stringify({
    rule_files: [rulesFile],
    evaluation_interval: evaluationInterval,
    // promtool evaluates groups in random order otherwise; rules reading another group's records need it first.
    group_eval_order: [groups.recording, groups.alerting, ...groups.slo].map((group) => group.name),
    fuzzy_compare: true,
    tests,
  }));
  return promtool("test", "rules", testFile);
}
