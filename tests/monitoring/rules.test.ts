import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { RECORDED } from "../../components/monitoring/promql";
import { SLO_ALERTS } from "../../components/slo/rules";
import { ALERT_NAMES, AlertName, AlertingRule, renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { promtool, tempDir, writeFile } from "../support/promtool";
import { AlertCase, alertTest, counter, runPromtoolTests } from "../support/ruleTests";
import { requireTool } from "../support/tools";

// The defaults from the stack config schema: the thresholds a fresh stack runs with.
const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model" } });
const groups = ruleGroups(rulesInput(config));
const allAlertingRules = [groups.alerting, ...groups.slo].flatMap((group) => group.rules.filter((rule): rule is AlertingRule => "alert" in rule));
const MODEL = `model_name="${config.modelName}"`;
const JOB = config.scrapeJobName;
const requests = (status: string) => `:tensorflow:serving:request_count{${MODEL},status="${status}"}`;
const bucket = (le: string, entrypoint = "REST") => `:tensorflow:serving:request_latency_bucket{${MODEL},API="predict",entrypoint="${entrypoint}",le="${le}"}`;
const modelPath = (version: string) => `/models/${config.modelName}/${version}`;
const loads = (version: string, status: string) =>
  `:tensorflow:cc:saved_model:load_attempt_count{model_path="${modelPath(version)}",status="${status}",job="${JOB}",instance="tfserving-dev-serving:8501"}`;
const upSeries = { series: `up{job="${JOB}",instance="tfserving-dev-serving:8501"}`, values: "1x200" };
/** Caddy's response counter at the front door, for one route's first handler and status code. */
const edgeResponses = (handler: string, code: string) =>
  `caddy_http_request_duration_seconds_count{job="${JOB}",server="door",handler="${handler}",code="${code}",method="POST"}`;


/** `count` samples of two 1 req/s counters (one started 1000 requests earlier) scraped in turn, as one series. */
const interleavedCounters = (count: number) => Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 1000 : 0) + 15 * i).join(" ");

const alertCases: AlertCase[] = [
  { name: "watchdog always fires", alert: "Watchdog", input: [upSeries], expect: [["0m", true], ["30m", true]] },
  {
    name: "target down for longer than its for: fires",
    alert: "TFServingTargetDown",
    input: [{ ...upSeries, values: "1x8 0x40" }],
    expect: [["2m", false], ["3m30s", true]],
    exprLabels: { job: JOB, instance: "tfserving-dev-serving:8501" },
  },
  {
    name: "target missing entirely: fires",
    alert: "TFServingTargetDown",
    input: [{ series: `up{job="other"}`, values: "1x40" }],
    expect: [["0m", false], ["2m", true]],
    exprLabels: { job: JOB },
  },
  {
    name: "target up, or down for one scrape burst only: silent",
    alert: "TFServingTargetDown",
    input: [{ ...upSeries, values: "1x8 0x2 1x40" }],
    expect: [["2m30s", false], ["5m", false]],
  },
  {
    name: "counter flat (no requests) for 10 minutes: fires",
    alert: "TFServingLowTraffic",
    input: [upSeries, { series: requests("OK"), values: "5x100" }],
    expect: [["9m", false], ["11m", true]],
  },
  {
    name: "traffic stops after 10 minutes at 1 req/s: fires once the 5m rate has been low for 10m",
    alert: "TFServingLowTraffic",
    input: [upSeries, { series: requests("OK"), values: `${counter(1, 40)} 600x80` }],
    expect: [["12m", false], ["20m", false], ["26m", true]],
  },
  {
    name: "no request series at all (fresh server): fires",
    alert: "TFServingLowTraffic",
    input: [upSeries],
    expect: [["11m", true]],
  },
  {
    name: "0.1 req/s steady: silent",
    alert: "TFServingLowTraffic",
    input: [upSeries, { series: requests("OK"), values: counter(0.1, 120) }],
    expect: [["11m", false], ["29m", false]],
  },
  {
    name: "1 req/s steady then 5 req/s: fires",
    alert: "TFServingTrafficSpike",
    input: [upSeries, { series: requests("OK"), values: `${counter(1, 80)} ${counter(5, 20, 1275)}` }],
    expect: [["19m", false], ["22m", true]],
  },
  {
    name: "1 req/s steady then 2 req/s: silent",
    alert: "TFServingTrafficSpike",
    input: [upSeries, { series: requests("OK"), values: `${counter(1, 80)} ${counter(2, 20, 1230)}` }],
    expect: [["20m30s", false], ["21m", false], ["22m", false], ["23m", false], ["25m", false]],
  },
  {
    name: "0.01 req/s then 0.05 req/s (a near-zero baseline): silent",
    alert: "TFServingTrafficSpike",
    input: [upSeries, { series: requests("OK"), values: `${counter(0.01, 80)} ${counter(0.05, 20, 12.75)}` }],
    expect: [["20m30s", false], ["21m", false], ["22m", false], ["23m", false], ["25m", false]],
  },
  {
    name: "a brand-new series at 1 req/s (its 15m rate still undercounts): silent until the baseline is complete",
    alert: "TFServingTrafficSpike",
    input: [upSeries, { series: requests("OK"), values: counter(1, 80) }],
    expect: [["3m", false], ["6m", false], ["10m", false], ["19m", false]],
  },
  {
    name: "error ratio 6% (threshold 5%): fires after errorRatioFor",
    alert: "TFServingHighErrorRate",
    input: [upSeries, { series: requests("OK"), values: counter(9.4, 60) }, { series: requests("INVALID_ARGUMENT"), values: counter(0.6, 60) }],
    expect: [["4m", false], ["11m", true]],
  },
  {
    name: "error ratio 4% (threshold 5%): silent",
    alert: "TFServingHighErrorRate",
    input: [upSeries, { series: requests("OK"), values: counter(9.6, 60) }, { series: requests("INVALID_ARGUMENT"), values: counter(0.4, 60) }],
    expect: [["11m", false], ["14m", false]],
  },
  {
    name: "no errors at all (no failed series): silent",
    alert: "TFServingHighErrorRate",
    input: [upSeries, { series: requests("OK"), values: counter(10, 60) }],
    expect: [["11m", false]],
  },
  {
    // 10% of REST predicts take 393ms-708ms: p95 interpolates to ~551ms, above 500ms.
    name: "REST predict p95 about 551ms (threshold 500ms): fires after latencyFor",
    alert: "TFServingHighLatencyP95",
    input: [
      upSeries,
      { series: bucket("393464"), values: counter(9, 60) },
      { series: bucket("708235"), values: counter(10, 60) },
      { series: bucket("+Inf"), values: counter(10, 60) },
    ],
    expect: [["4m", false], ["11m", true]],
  },
  {
    // 6% slow: p95 interpolates to ~446ms. Slow gRPC calls must not count towards REST predict.
    name: "REST predict p95 about 446ms, slow gRPC traffic beside it: silent",
    alert: "TFServingHighLatencyP95",
    input: [
      upSeries,
      { series: bucket("393464"), values: counter(9.4, 60) },
      { series: bucket("708235"), values: counter(10, 60) },
      { series: bucket("+Inf"), values: counter(10, 60) },
      { series: bucket("393464", "GRPC"), values: counter(0, 60) },
      { series: bucket("708235", "GRPC"), values: counter(0, 60) },
      { series: bucket("+Inf", "GRPC"), values: counter(10, 60) },
    ],
    expect: [["11m", false], ["14m", false]],
  },
  {
    // Two replicas at 1 req/s behind one domain, scraped alternately: one counter near 1000, the other near 0.
    name: "two replicas' counters interleave in one series: fires",
    alert: "TFServingCounterResets",
    input: [upSeries, { series: requests("OK"), values: interleavedCounters(60) }],
    expect: [["4m", false], ["11m", true]],
  },
  {
    // TF Serving unreachable behind the door for a while: 502s TF Serving's own counters never see.
    name: "6% of the door's answers are 502 (threshold 5%): fires after errorRatioFor",
    alert: "TFServingEdgeServerErrors",
    input: [upSeries, { series: edgeResponses("request_body", "200"), values: counter(9.4, 60) }, { series: edgeResponses("request_body", "502"), values: counter(0.6, 60) }],
    expect: [["4m", false], ["11m", true]],
  },
  {
    // Refusals (401, 404, 413) are the door doing its job, and the scrapes' own answers do not dilute or count.
    name: "4% 5xx among client answers, many 401/404/413 and scrapes beside them: silent",
    alert: "TFServingEdgeServerErrors",
    input: [
      upSeries,
      { series: edgeResponses("request_body", "200"), values: counter(9.6, 60) },
      { series: edgeResponses("request_body", "504"), values: counter(0.4, 60) },
      { series: edgeResponses("static_response", "401"), values: counter(20, 60) },
      { series: edgeResponses("static_response", "404"), values: counter(20, 60) },
      { series: edgeResponses("request_body", "413"), values: counter(5, 60) },
      { series: edgeResponses("vars", "502"), values: counter(5, 60) },
    ],
    expect: [["11m", false], ["14m", false]],
  },
  {
    name: "one restart (the counter starts again at 0 once): silent",
    alert: "TFServingCounterResets",
    input: [upSeries, { series: requests("OK"), values: `${counter(1, 30)} ${counter(1, 30)}` }],
    expect: [["5m", false], ["12m", false]],
  },
  {
    name: "version 2 fails to load while version 1 serves: fires for version 2's path",
    alert: "TFServingModelLoadFailed",
    input: [upSeries, { series: loads("1", "success"), values: "1x40" }, { series: loads("2", "fail"), values: "_x4 1 2 3 4 5x40" }],
    expect: [["1m30s", false], ["3m", true]],
    exprLabels: { model_path: modelPath("2") },
  },
  {
    name: "a load that fails once and then succeeds on retry: silent",
    alert: "TFServingModelLoadFailed",
    input: [upSeries, { series: loads("2", "fail"), values: "1x40" }, { series: loads("2", "success"), values: "_x2 1x40" }],
    expect: [["1m", false], ["5m", false]],
  },
];

describe("tool checks", () => {
  it("fail, never skip, with the install command when the tool is missing", () => {
    expect(() => requireTool("openssl-not-installed-here", "apt-get install openssl")).toThrow(/install it: apt-get install openssl/i);
  });
});

describe("rules renderer", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("prometheus-rules");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("renders exactly the contracted alerts, each with severity, summary, description and a README runbook anchor", () => {
    const rendered = parse(renderRules(groups));
    const alerts = rendered.groups.flatMap((group: { rules: { alert?: string }[] }) => group.rules.filter((rule) => rule.alert));
    // Each SLO's budget-burn alert is two rules, a page and a ticket.
    expect([...new Set(alerts.map((rule: { alert: string }) => rule.alert))]).toEqual([...ALERT_NAMES]);
    for (const rule of allAlertingRules) {
      expect(rule.labels.severity).toMatch(/^(critical|warning|none)$/);
      expect(rule.annotations.summary).not.toBe("");
      expect(rule.annotations.description).not.toBe("");
      expect(rule.annotations.runbook_url).toBe(`README.md#${rule.alert.toLowerCase()}`);
    }
  });

  it("every runbook_url anchor lands on a README runbook heading", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
    // GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as dashes.
    const anchors = [...readme.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-"));
    for (const rule of allAlertingRules) expect(anchors).toContain(rule.annotations.runbook_url.split("#")[1]);
  });

  it("takes thresholds and for durations from the stack config", () => {
    const custom = parseStackConfig({
      stack: "dev",
      projectDir: "/p",
      values: { modelDir: "m", errorRatioThreshold: "0.1", errorRatioFor: "2m", latencyP95ThresholdMs: "250", spikeFactor: "4", lowTrafficFor: "15m" },
    });
    const rules = ruleGroups({ ...rulesInput(custom), runbookBaseUrl: "https://docs.example/tfserving" });
    const byName = (name: AlertName) => rules.alerting.rules.find((rule) => rule.alert === name)!;
    expect(byName("TFServingHighErrorRate")).toMatchObject({ for: "2m", expr: expect.stringMatching(/> 0\.1$/) });
    expect(byName("TFServingHighErrorRate").annotations.description).toContain("10%");
    expect(byName("TFServingHighLatencyP95").expr).toMatch(/> 250$/);
    expect(byName("TFServingTrafficSpike").expr).toContain("> 4 * sum(rate(");
    expect(byName("TFServingLowTraffic").for).toBe("15m");
    expect(byName("Watchdog").for).toBeUndefined();
    expect(byName("TFServingLowTraffic").annotations.runbook_url).toBe("https://docs.example/tfserving#tfservinglowtraffic");
  });

  it("rejects a for duration that is not a Prometheus duration, naming the key", () => {
    expect(() => ruleGroups({ ...rulesInput(config), latencyFor: "5 minutes" })).toThrow(/^tfserving-platform:latencyFor: "5 minutes" is not a Prometheus duration/);
  });

  it("passes promtool check rules", () => {
    const result = promtool("check", "rules", writeFile(dir, "tfserving.rules.yml", renderRules(groups)));
    const sloRules = groups.slo.reduce((sum, group) => sum + group.rules.length, 0);
    expect(sloRules).toBeGreaterThan(0);
    expect(result.output).toContain(`SUCCESS: ${groups.recording.rules.length + groups.alerting.rules.length + sloRules} rules found`);
    expect(result.status).toBe(0);
  });

  it("every alert has a case where it fires and one where it stays silent", () => {
    // The SLO alerts' cases are in tests/slo/rules.test.ts.
    for (const name of ALERT_NAMES.filter((alert) => !(Object.values(SLO_ALERTS) as string[]).includes(alert))) {
      expect(alertCases.some((c) => c.alert === name && c.expect.some(([, fires]) => fires))).toBe(true);
      if (name !== "Watchdog") expect(alertCases.some((c) => c.alert === name && c.expect.some(([, fires]) => !fires))).toBe(true);
    }
  });

  it("promtool test rules: each alert fires when it should and stays silent when it should not", () => {
    const result = runPromtoolTests(dir, groups, alertCases.map((testCase) => alertTest(groups, testCase)));
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("the spike guard is what keeps a near-zero baseline silent (the test above can fail)", () => {
    const unguarded = ruleGroups({ ...rulesInput(config), thresholds: { ...rulesInput(config).thresholds, spikeMinBaselineRps: 0.001 } });
    const nearZero = alertCases.find((c) => c.name.startsWith("0.01 req/s then 0.05"))!;
    const result = runPromtoolTests(dir, unguarded, [alertTest(groups, nearZero)]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("TFServingTrafficSpike");
  });

  it("promtool test rules: recording rules produce the expected series", () => {
    const input = [
      { series: requests("OK"), values: counter(3, 60) },
      { series: requests("INVALID_ARGUMENT"), values: counter(1, 60) },
      { series: `:tensorflow:serving:request_latency_sum{${MODEL},API="predict",entrypoint="REST"}`, values: counter(3 * 200_000, 60) },
      { series: `:tensorflow:serving:request_latency_count{${MODEL},API="predict",entrypoint="REST"}`, values: counter(3, 60) },
      { series: bucket("393464"), values: counter(2.7, 60) },
      { series: bucket("708235"), values: counter(3, 60) },
      { series: bucket("+Inf"), values: counter(3, 60) },
    ];
    const labels = `{${MODEL}}`;
    // 10% of requests between 393ms and 708ms: p95 ~551ms, p99 ~677ms.
    // Quantiles interpolate in floating point; rounding to whole ms keeps the comparison exact.
    const test = {
      interval: "15s",
      input_series: input,
      promql_expr_test: [
        { expr: RECORDED.requestRate5m, eval_time: "10m", exp_samples: [{ labels: `${RECORDED.requestRate5m}${labels}`, value: 4 }] },
        {
          expr: RECORDED.requestRateByStatus1m,
          eval_time: "10m",
          exp_samples: [
            { labels: `${RECORDED.requestRateByStatus1m}{${MODEL},status="OK"}`, value: 3 },
            { labels: `${RECORDED.requestRateByStatus1m}{${MODEL},status="INVALID_ARGUMENT"}`, value: 1 },
          ],
        },
        {
          expr: RECORDED.requestRateByStatus5m,
          eval_time: "10m",
          exp_samples: [
            { labels: `${RECORDED.requestRateByStatus5m}{${MODEL},status="OK"}`, value: 3 },
            { labels: `${RECORDED.requestRateByStatus5m}{${MODEL},status="INVALID_ARGUMENT"}`, value: 1 },
          ],
        },
        { expr: RECORDED.errorRatio5m, eval_time: "10m", exp_samples: [{ labels: `${RECORDED.errorRatio5m}${labels}`, value: 0.25 }] },
        { expr: RECORDED.meanLatencyMs5m, eval_time: "10m", exp_samples: [{ labels: `${RECORDED.meanLatencyMs5m}${labels}`, value: 200 }] },
        { expr: `round(${RECORDED.p95LatencyMs5m})`, eval_time: "10m", exp_samples: [{ labels: labels, value: 551 }] },
        { expr: `round(${RECORDED.p99LatencyMs5m})`, eval_time: "10m", exp_samples: [{ labels: labels, value: 677 }] },
      ],
    };
    const result = runPromtoolTests(dir, groups, [test]);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});
