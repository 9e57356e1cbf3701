import * as fs from "node:fs";
import { parse } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { PROMETHEUS_PATHS, checkScrapeTarget, prometheusConfig, prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { promtool, tempDir, writeFile } from "../support/promtool";

const dev = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model" } });
const prod = parseStackConfig({
  stack: "prod",
  projectDir: "/project",
  values: { modelDir: "model", deployTarget: "railway", railwayService: "diabetes-prediction", railwayToken: "set", publicEndpoint: "true", scrapeJobName: "tf-serving-railway" },
});
const devEndpoint = { target: "tfserving-dev-serving:8501", scheme: "http" as const };
const prodEndpoint = { target: "diabetespredictionmlops-production.up.railway.app", scheme: "https" as const };

describe("prometheus.yml renderer", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("prometheus-config");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Renders the stack's rules and config into the temp folder and runs `promtool check config` on it. */
  function check(config: typeof dev, endpoint: { target: string; scheme: "http" | "https" }, extra = {}) {
    const rulesFile = writeFile(dir, "tfserving.rules.yml", renderRules(ruleGroups(rulesInput(config))));
    const text = renderPrometheusConfig(prometheusConfigInput(config, endpoint, { ruleFiles: [rulesFile], ...extra }));
    const configFile = writeFile(dir, "prometheus.yml", text);
    return { text, result: promtool("check", "config", configFile) };
  }

  it("dev: scrapes the serving container over http and passes promtool check config, rules included", () => {
    const { text, result } = check(dev, devEndpoint);
    expect(result.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(result.status).toBe(0);
    const doc = parse(text);
    expect(doc.global).toEqual({ scrape_interval: "15s", evaluation_interval: "15s", external_labels: { monitor: "tf-serving-railway-monitor" } });
    expect(doc.scrape_configs[0]).toEqual({
      job_name: "tf-serving-local",
      scrape_interval: "5s",
      scrape_timeout: "4s",
      metrics_path: "/monitoring/prometheus/metrics",
      scheme: "http",
      static_configs: [{ targets: ["tfserving-dev-serving:8501"] }],
    });
    expect(doc.scrape_configs[1]).toEqual({ job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] });
    expect(doc.alerting).toBeUndefined();
  });

  it("prod: scrapes the Railway domain over https, the seed's job, and passes promtool", () => {
    const { text, result } = check(prod, prodEndpoint);
    expect(result.status).toBe(0);
    const job = parse(text).scrape_configs[0];
    expect(job).toMatchObject({ job_name: "tf-serving-railway", scheme: "https", metrics_path: "/monitoring/prometheus/metrics" });
    expect(job.static_configs).toEqual([{ targets: ["diabetespredictionmlops-production.up.railway.app"] }]);
    expect(job.tls_config).toBeUndefined();
  });

  it("accepts a CA file for an https target (end-to-end tests) and an Alertmanager, still valid for promtool", () => {
    const caFile = writeFile(dir, "ca.pem", "");
    const { text, result } = check(prod, { target: "127.0.0.1:18443", scheme: "https" }, {
      tlsConfig: { ca_file: caFile, server_name: "localhost" },
      alertmanagerTargets: ["tfserving-prod-alertmanager:9093"],
      selfScrapeTarget: "127.0.0.1:19090",
    });
    expect(result.status).toBe(0);
    const doc = parse(text);
    expect(doc.scrape_configs[0].tls_config).toEqual({ ca_file: caFile, server_name: "localhost" });
    expect(doc.scrape_configs[1].static_configs).toEqual([{ targets: ["127.0.0.1:19090"] }]);
    expect(doc.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: ["tfserving-prod-alertmanager:9093"] }] }] });
  });

  it("promtool itself rejects a config whose timeout exceeds the interval, so the checks above can fail", () => {
    const text = renderPrometheusConfig(prometheusConfigInput(dev, devEndpoint, { ruleFiles: [] })).replace("scrape_timeout: 4s", "scrape_timeout: 9s");
    expect(promtool("check", "config", writeFile(dir, "prometheus.yml", text)).status).not.toBe(0);
  });
});

describe("prometheus.yml renderer input checks", () => {
  const input = (target: string, interval = "5s", timeout = "4s") => ({
    ...prometheusConfigInput(dev, { target, scheme: "http" }),
    serving: { ...prometheusConfigInput(dev, { target, scheme: "http" }).serving!, scrapeInterval: interval, scrapeTimeout: timeout },
  });

  it.each([
    ["https://x.up.railway.app", /contains a scheme/],
    ["x.up.railway.app/monitoring/prometheus/metrics", /contains a path/],
    ["x.up.railway.app ", /contains whitespace/],
    ["host:99999", /port outside/],
    ["", /not a host name/],
  ])("rejects the target %j", (target, problem) => {
    expect(() => prometheusConfig(input(target))).toThrow(problem);
    expect(() => checkScrapeTarget(target)).toThrow(/bare host\[:port\]/);
  });

  it.each(["tfserving-dev-serving:8501", "x.up.railway.app", "127.0.0.1:8501", "[::1]:8501"])("accepts the target %j", (target) => {
    expect(() => prometheusConfig(input(target))).not.toThrow();
  });

  it("rejects a scrape timeout that is not below the interval, naming the key", () => {
    expect(() => prometheusConfig(input("a:1", "5s", "5s"))).toThrow(/tfserving-platform:scrapeTimeout: must be shorter than tfserving-platform:scrapeInterval \(5s >= 5s\)/);
    expect(() => prometheusConfig(input("a:1", "5s", "10s"))).toThrow(/tfserving-platform:scrapeTimeout/);
  });

  it("rejects a job name that collides with the self-scrape job", () => {
    const base = input("a:1");
    expect(() => prometheusConfig({ ...base, serving: { ...base.serving, jobName: "prometheus" } })).toThrow(/tfserving-platform:scrapeJobName/);
  });

  it("defaults rule_files to the path the container receives the rules at", () => {
    expect(parse(renderPrometheusConfig(input("a:1"))).rule_files).toEqual([PROMETHEUS_PATHS.rules]);
  });
});
