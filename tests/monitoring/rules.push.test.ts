import * as fs from "node:fs";
import { parseStackConfig } from "../../components/config/stackConfig";
import { PUSH_FRESHNESS_WINDOW, RECORDED } from "../../components/monitoring/promql";
import { ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { tempDir } from "../support/promtool";
import { AlertCase, alertTest, counter, runPromtoolTests } from "../support/ruleTests";

/**
 * The rules in push mode, against series as the receiver stores them: every replica's agent pushes its
 * own series, told apart by the `replica` external label, all with the same instance (127.0.0.1:<port>).
 */
const config = parseStackConfig({ stack: "prod", projectDir: "/project", values: { modelDir: "model", metricsMode: "push" } });
const scrapeConfig = parseStackConfig({ stack: "prod", projectDir: "/project", values: { modelDir: "model" } });
const push = ruleGroups(rulesInput(config));
const scrape = ruleGroups(rulesInput(scrapeConfig));
const JOB = config.scrapeJobName;
const replicaLabels = (replica: string) => `job="${JOB}",instance="127.0.0.1:8501",replica="${replica}",region="europe-west4"`;
const requests = (replica: string, status: string) =>
  `:tensorflow:serving:request_count{model_name="${config.modelName}",status="${status}",${replicaLabels(replica)}}`;
const bucket = (replica: string, le: string) =>
  `:tensorflow:serving:request_latency_bucket{model_name="${config.modelName}",API="predict",entrypoint="REST",${replicaLabels(replica)},le="${le}"}`;
const loads = (replica: string, status: string) =>
  `:tensorflow:cc:saved_model:load_attempt_count{model_path="/models/${config.modelName}/2",status="${status}",${replicaLabels(replica)}}`;
const up = (replica: string, values = "1x200") => ({ series: `up{${replicaLabels(replica)}}`, values });
const bothUp = [up("r1"), up("r2")];
/** Caddy's response counter of one replica's front door, for one route's first handler and status code. */
const edgeResponses = (replica: string, handler: string, code: string) =>
  `caddy_http_request_duration_seconds_count{server="door",handler="${handler}",code="${code}",method="POST",component="edge",${replicaLabels(replica)}}`;


const cases: AlertCase[] = [
  { name: "watchdog always fires", alert: "Watchdog", input: bothUp, expect: [["0m", true], ["20m", true]] },
  {
    name: "one replica's server restarts every minute: fires",
    alert: "TFServingCounterResets",
    input: [...bothUp, { series: requests("r1", "OK"), values: Array.from({ length: 15 }, () => counter(1, 3)).join(" ") }, { series: requests("r2", "OK"), values: counter(1, 60) }],
    expect: [["4m", false], ["11m", true]],
  },
  {
    name: "two replicas counting side by side, each its own series: silent",
    alert: "TFServingCounterResets",
    input: [...bothUp, { series: requests("r1", "OK"), values: counter(1, 60, 1000) }, { series: requests("r2", "OK"), values: counter(1, 60) }],
    expect: [["5m", false], ["14m", false]],
  },
  {
    name: "one replica's agent reports its server down: fires for that replica",
    alert: "TFServingTargetDown",
    input: [up("r1"), up("r2", "1x8 0x40")],
    expect: [["2m", false], ["3m30s", true]],
    exprLabels: { job: JOB, instance: "127.0.0.1:8501", replica: "r2", region: "europe-west4" },
  },
  {
    name: `no replica pushes any more: fires after ${PUSH_FRESHNESS_WINDOW} without a sample plus the for duration`,
    alert: "TFServingTargetDown",
    input: [up("r1", "1x20"), up("r2", "1x20")],
    expect: [["6m", false], ["8m30s", true]],
    exprLabels: { job: JOB },
  },
  {
    name: "one of two replicas stops pushing (scaled down): silent",
    alert: "TFServingTargetDown",
    input: [up("r1", "1x80"), up("r2", "1x20")],
    expect: [["8m", false], ["15m", false]],
  },
  {
    name: "two replicas at 0.004 req/s each (0.008 in total, threshold 0.01): fires",
    alert: "TFServingLowTraffic",
    input: [...bothUp, { series: requests("r1", "OK"), values: counter(0.004, 100) }, { series: requests("r2", "OK"), values: counter(0.004, 100) }],
    expect: [["11m", true]],
  },
  {
    name: "two replicas at 0.006 req/s each: the total of 0.012 counts, so silent",
    alert: "TFServingLowTraffic",
    input: [...bothUp, { series: requests("r1", "OK"), values: counter(0.006, 100) }, { series: requests("r2", "OK"), values: counter(0.006, 100) }],
    expect: [["11m", false], ["20m", false]],
  },
  {
    name: "two replicas from 0.5 to 2.5 req/s each: fires",
    alert: "TFServingTrafficSpike",
    input: [
      ...bothUp,
      { series: requests("r1", "OK"), values: `${counter(0.5, 80)} ${counter(2.5, 20, 637.5)}` },
      { series: requests("r2", "OK"), values: `${counter(0.5, 80)} ${counter(2.5, 20, 637.5)}` },
    ],
    expect: [["19m", false], ["22m", true]],
  },
  {
    name: "traffic moves from one replica to the other at a steady total: silent",
    alert: "TFServingTrafficSpike",
    input: [
      ...bothUp,
      { series: requests("r1", "OK"), values: `${counter(1, 80)} ${counter(0, 20, 1200)}` },
      { series: requests("r2", "OK"), values: `${counter(0, 80)} ${counter(1, 20)}` },
    ],
    expect: [["21m", false], ["23m", false]],
  },
  {
    name: "6% errors, all on one replica: fires",
    alert: "TFServingHighErrorRate",
    input: [
      ...bothUp,
      { series: requests("r1", "OK"), values: counter(5, 60) },
      { series: requests("r2", "OK"), values: counter(4.4, 60) },
      { series: requests("r2", "INVALID_ARGUMENT"), values: counter(0.6, 60) },
    ],
    expect: [["4m", false], ["11m", true]],
  },
  {
    name: "4% errors overall although one replica has 8%: silent (the alert is about the model)",
    alert: "TFServingHighErrorRate",
    input: [
      ...bothUp,
      { series: requests("r1", "OK"), values: counter(5, 60) },
      { series: requests("r2", "OK"), values: counter(4.6, 60) },
      { series: requests("r2", "INVALID_ARGUMENT"), values: counter(0.4, 60) },
    ],
    expect: [["11m", false]],
  },
  {
    name: "6% 5xx at the edge, all at one replica's door: fires",
    alert: "TFServingEdgeServerErrors",
    input: [
      ...bothUp,
      { series: edgeResponses("r1", "request_body", "200"), values: counter(5, 60) },
      { series: edgeResponses("r2", "request_body", "200"), values: counter(4.4, 60) },
      { series: edgeResponses("r2", "request_body", "502"), values: counter(0.6, 60) },
    ],
    expect: [["4m", false], ["11m", true]],
  },
  {
    name: "4% 5xx at the edge overall although one replica's door has 8%: silent",
    alert: "TFServingEdgeServerErrors",
    input: [
      ...bothUp,
      { series: edgeResponses("r1", "request_body", "200"), values: counter(5, 60) },
      { series: edgeResponses("r2", "request_body", "200"), values: counter(4.6, 60) },
      { series: edgeResponses("r2", "request_body", "502"), values: counter(0.4, 60) },
    ],
    expect: [["11m", false]],
  },
  {
    name: "p95 about 551ms over both replicas' buckets: fires",
    alert: "TFServingHighLatencyP95",
    input: [
      ...bothUp,
      ...["r1", "r2"].flatMap((replica) => [
        { series: bucket(replica, "393464"), values: counter(4.5, 60) },
        { series: bucket(replica, "708235"), values: counter(5, 60) },
        { series: bucket(replica, "+Inf"), values: counter(5, 60) },
      ]),
    ],
    expect: [["4m", false], ["11m", true]],
  },
  {
    name: "one slow replica with a tenth of the traffic (p95 overall about 446ms): silent",
    alert: "TFServingHighLatencyP95",
    input: [
      ...bothUp,
      { series: bucket("r1", "393464"), values: counter(9, 60) },
      { series: bucket("r1", "708235"), values: counter(9, 60) },
      { series: bucket("r1", "+Inf"), values: counter(9, 60) },
      { series: bucket("r2", "393464"), values: counter(0.4, 60) },
      { series: bucket("r2", "708235"), values: counter(1, 60) },
      { series: bucket("r2", "+Inf"), values: counter(1, 60) },
    ],
    expect: [["11m", false]],
  },
  {
    name: "one replica fails to load version 2 that the other loaded: fires for that replica",
    alert: "TFServingModelLoadFailed",
    input: [...bothUp, { series: loads("r1", "fail"), values: "1x40" }, { series: loads("r2", "success"), values: "1x40" }],
    expect: [["30s", false], ["2m", true]],
    exprLabels: { model_path: `/models/${config.modelName}/2`, replica: "r1" },
  },
  {
    name: "both replicas loaded version 2: silent",
    alert: "TFServingModelLoadFailed",
    input: [...bothUp, { series: loads("r1", "success"), values: "1x40" }, { series: loads("r2", "success"), values: "1x40" }],
    expect: [["2m", false]],
  },
];

describe("rules in push mode (promtool test rules)", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("prometheus-push-rules");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("every alert has a push-mode case where it fires and one where it stays silent", () => {
    for (const rule of push.alerting.rules) {
      expect({ alert: rule.alert, fires: cases.some((c) => c.alert === rule.alert && c.expect.some(([, fires]) => fires)) }).toEqual({ alert: rule.alert, fires: true });
      if (rule.alert !== "Watchdog") {
        expect({ alert: rule.alert, silent: cases.some((c) => c.alert === rule.alert && c.expect.some(([, fires]) => !fires)) }).toEqual({ alert: rule.alert, silent: true });
      }
    }
  });

  it("each alert fires when it should and stays silent when it should not, with two replicas pushing", () => {
    const result = runPromtoolTests(dir, push, cases.map((testCase) => alertTest(push, testCase)));
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("scrape mode's target-down waits for the 5m lookback, so the push-mode case above can fail", () => {
    const stopped = cases.find((c) => c.name.startsWith("no replica pushes"))!;
    const result = runPromtoolTests(dir, scrape, [alertTest(scrape, stopped)]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("TFServingTargetDown");
  });

  it("the recorded request rate is the sum over replicas", () => {
    const input = [...bothUp, { series: requests("r1", "OK"), values: counter(3, 60) }, { series: requests("r2", "OK"), values: counter(1, 60) }];
    const test = {
      interval: "15s",
      input_series: input,
      promql_expr_test: [
        // Rounded: Prometheus 3's rate extrapolation leaves float noise in the last digits.
        { expr: `round(${RECORDED.requestRate5m})`, eval_time: "10m", exp_samples: [{ labels: `{model_name="${config.modelName}"}`, value: 4 }] },
      ],
    };
    const result = runPromtoolTests(dir, push, [test]);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});
