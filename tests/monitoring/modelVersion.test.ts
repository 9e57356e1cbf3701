/**
 * The served version on every series (model_version): scrape mode labels the target, push mode the agent's
 * external labels; rules keep aggregating by model, so a deploy neither splits nor breaks a recorded total.
 */
import * as fs from "node:fs";
import { parse } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { agentConfig } from "../../components/monitoring/agentConfig";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { MODEL_VERSION_LABEL, RECORDED } from "../../components/monitoring/promql";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { agentSpec } from "../../components/serving/buildContext";
import { promtool, tempDir, writeFile } from "../support/promtool";
import { runPromtoolTests } from "../support/ruleTests";

const dev = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model" } });
const push = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", metricsMode: "push" } });

describe("model_version on every series", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("model-version");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("scrape mode: the TF Serving target carries the served version as a target label, and promtool accepts the config", () => {
    const rulesFile = writeFile(dir, "tfserving.rules.yml", renderRules(ruleGroups(rulesInput(dev))));
    const text = renderPrometheusConfig(
      prometheusConfigInput(dev, { target: "tfserving-dev-serving:8501", scheme: "http" }, { ruleFiles: [rulesFile], modelVersion: "3" }),
    );
    const check = promtool("check", "config", writeFile(dir, "prometheus.yml", text));
    expect({ status: check.status, output: check.output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS/) });
    const jobs = parse(text).scrape_configs as { job_name: string; static_configs: unknown[] }[];
    expect(jobs[0].static_configs).toEqual([{ targets: ["tfserving-dev-serving:8501"], labels: { [MODEL_VERSION_LABEL]: "3" } }]);
    // Prometheus' own series are not TF Serving's and carry no version.
    expect(jobs[1].static_configs).toEqual([{ targets: ["localhost:9090"] }]);
  });

  it("push mode: each replica's agent adds the version to its external labels, beside replica and region", () => {
    const spec = agentSpec(push, "https://metrics.example.com/api/v1/write", undefined, "7");
    const labels = (agentConfig(spec.config).global as { external_labels: Record<string, string> }).external_labels;
    expect(labels).toEqual({ replica: "${TFSERVING_REPLICA}", region: "${TFSERVING_REGION}", [MODEL_VERSION_LABEL]: "7" });
  });

  it("no rule groups by model_version: only the by-version dashboard view does", () => {
    for (const config of [dev, push]) {
      const groups = ruleGroups(rulesInput(config));
      for (const rule of [...groups.recording.rules, ...groups.alerting.rules]) expect({ rule: rule.expr, mentions: rule.expr.includes(MODEL_VERSION_LABEL) }).toEqual({ rule: rule.expr, mentions: false });
    }
  });

  it("promtool: a deploy that restarts TF Serving as version 2 keeps one recorded series per model, with the same rate and p95 across the change", () => {
    const model = `model_name="${dev.modelName}"`;
    const requests = (version: string) => `:tensorflow:serving:request_count{${model},status="OK",${MODEL_VERSION_LABEL}="${version}"}`;
    const bucket = (version: string, le: string) =>
      `:tensorflow:serving:request_latency_bucket{${model},API="predict",entrypoint="REST",le="${le}",${MODEL_VERSION_LABEL}="${version}"}`;
    // 10 req/s, every request between 37.5 and 67.5 ms. Version 1 ends (stale) at 10m15s; version 2 restarts from zero then.
    const counting = { "1": "0+150x40 stale", "2": "_x41 150+150x40" };
    const empty = { "1": "0x40 stale", "2": "_x41 0x40" };
    const input = (["1", "2"] as const).flatMap((version) => [
      { series: requests(version), values: counting[version] },
      { series: bucket(version, "37481.3"), values: empty[version] },
      { series: bucket(version, "67466.4"), values: counting[version] },
      { series: bucket(version, "+Inf"), values: counting[version] },
    ]);
    const p95Ms = (37481.3 + (67466.4 - 37481.3) * 0.95) / 1000;
    // One series per recorded name, labelled with the model only: a split by version would fail the comparison.
    const expected: [string, string, number][] = [
      [RECORDED.requestRate5m, "", 10],
      [RECORDED.requestRateByStatus5m, ',status="OK"', 10],
      [RECORDED.p95LatencyMs5m, "", p95Ms],
    ];
    const tests = [
      {
        name: "version change",
        interval: "15s",
        input_series: input,
        // Before the change, while both versions share the 5m window, and after the old one has left it.
        promql_expr_test: ["9m", "12m", "17m"].flatMap((evalTime) =>
          expected.map(([record, labels, value]) => ({
            expr: record,
            eval_time: evalTime,
            exp_samples: [{ labels: `${record}{${model}${labels}}`, value }],
          })),
        ),
      },
    ];
    const result = runPromtoolTests(dir, ruleGroups(rulesInput(dev)), tests);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS/) });
  });
});
