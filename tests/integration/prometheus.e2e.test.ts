/**
 * The monitoring end to end: the REAL prometheus.yml, rules and alertmanager.yml (from the program's
 * renderers) loaded by Prometheus and Alertmanager of the default images' releases, scraping the TF
 * Serving simulator (TF Serving's exact exposition and Content-Type); every dashboard panel query (from
 * the BUILT dashboard JSON) and every alert checked against what the simulator is doing.
 *
 * Time is compressed for the test only. Scrape and evaluation run every 1s (set through the stack's own
 * config keys). The rule objects and panel queries are then transformed, not re-typed: every range
 * window and every `for` is divided by TIME_SCALE (1m -> 4s, i.e. 4 scrapes, the fewest that give a
 * steady rate(); 5m -> 20s; 15m -> 60s; lowTrafficFor 10m -> 40s). The expressions are otherwise exactly
 * the production ones; the production windows and `for` durations are checked by the promtool unit tests
 * in tests/monitoring/rules.test.ts.
 */
import * as fs from "node:fs";
import { stringify } from "yaml";
import { StackConfig, durationMs, parseStackConfig } from "../../components/config/stackConfig";
import { PANEL_TITLES, dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { INSIGHT_PANEL_TITLES } from "../../components/grafana/insightPanels";
import { alertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { AGENT_LABEL_ENV, agentConfig } from "../../components/monitoring/agentConfig";
import { RECORDED, RECORDED_INTERNALS, servingQueries } from "../../components/monitoring/promql";
import { REMOTE_WRITE_PATH } from "../../components/monitoring/receiverConfig";
import { agentSpec } from "../../components/serving/buildContext";
import { AlertName, RuleGroups, TARGET_DOWN_FOR, renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { SLO_PANEL_TITLES } from "../../components/slo/dashboard";
import { BOUNDS, LOAD_US, QUEUE_SHARE, RUNTIME_SHARE, WARMUP_US } from "../../scripts/simulator/exposition";
import { DEFAULT_BASE, SPIKE_MULTIPLIER, Scenario, presetScenario } from "../../scripts/simulator/scenario";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { WebhookReceiver, startWebhookReceiver } from "../../scripts/live/webhookReceiver";
import { tempDir, writeFile } from "../support/promtool";
import { AlertmanagerServer, startAlertmanager } from "../support/alertmanagerServer";
import { PrometheusServer, Sample, startPrometheus } from "../support/prometheusServer";
import { monitoringTool } from "../support/monitoringTools";
import { makeTestCertificates } from "../support/selfSignedCert";
import { ServerProcess, freePort, sleep, startServerProcess, waitFor } from "../support/serverProcess";

const TIME_SCALE = 15;

function shorten(duration: string): string {
  const ms = durationMs(duration);
  if (!ms) throw new Error(`not a duration: ${duration}`);
  const scaled = Math.round(ms / TIME_SCALE);
  return scaled % 1000 === 0 ? `${scaled / 1000}s` : `${scaled}ms`;
}

/** Every `[window]` and `offset` of an expression, shortened; Grafana's interval variables become the shortened 1m. */
function compress(expr: string): string {
  const shortened = expr
    .replace(/\[((?:\d+(?:ms|[smhdwy]))+)\]/g, (_, window: string) => `[${shorten(window)}]`)
    .replace(/ offset ((?:\d+(?:ms|[smhdwy]))+)/g, (_, window: string) => ` offset ${shorten(window)}`)
    .replace(/\$__rate_interval|\$__interval/g, shorten("1m"));
  if (/\$__/.test(shortened)) throw new Error(`unhandled Grafana variable in ${expr}`);
  return shortened;
}

/** The stack's rule groups with windows and `for` durations compressed (see the file comment). */
function compressedRules(config: StackConfig): RuleGroups {
  const groups = ruleGroups({ ...rulesInput(config), targetDownFor: TARGET_DOWN_FOR });
  return {
    recording: { ...groups.recording, rules: groups.recording.rules.map((rule) => ({ ...rule, expr: compress(rule.expr) })) },
    alerting: {
      ...groups.alerting,
      rules: groups.alerting.rules.map((rule) => ({ ...rule, expr: compress(rule.expr), ...(rule.for ? { for: shorten(rule.for) } : {}) })),
    },
    slo: groups.slo.map((group) => ({ ...group, rules: group.rules.map((rule) => ({ ...rule, expr: compress(rule.expr) })) })),
  };
}

/** Test-only intervals, set through the stack config keys a user would set. */
const FAST = { globalScrapeInterval: "1s", scrapeInterval: "1s", evaluationInterval: "1s" };

interface Stack {
  config: StackConfig;
  simulator: Simulator;
  prometheus: PrometheusServer;
  dir: string;
}

interface StackOptions {
  tls?: { key: string; cert: string; caFile: string };
  dir?: string;
  /** `host:port` of Alertmanagers Prometheus sends its alerts to. */
  alertmanagerTargets?: string[];
  /** The served version the scrape labels every series with (model_version); "1" unless a test deploys another. */
  modelVersion?: string;
  /** A redeploy: Prometheus starts again on this port and TSDB, scraping this (already restarted) simulator. */
  redeploy?: { prometheusPort: number; simulator: Simulator };
  /** What the simulator does from its first request; `steady` unless set. */
  scenario?: Scenario;
}

interface SimulatorOptions {
  tls?: { key: string; cert: string };
  port?: number;
  scenario?: Scenario;
}

/** The simulated TF Serving of a stack: it batches exactly when the stack turns batching on; the model ships warm-up requests. */
function startStackSimulator(config: StackConfig, modelVersion: string, { scenario, ...options }: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    modelName: config.modelName,
    metricsPath: config.metricsPath,
    scenario: scenario ?? presetScenario("steady"),
    batching: config.batching !== undefined,
    warmup: true,
    version: modelVersion,
    ...options,
  });
}

async function startStack(config: StackConfig, { tls, dir = tempDir("tfserving-e2e"), alertmanagerTargets, modelVersion = "1", redeploy, scenario }: StackOptions = {}): Promise<Stack> {
  const simulator = redeploy?.simulator ?? (await startStackSimulator(config, modelVersion, { scenario, ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}) }));
  try {
    const port = redeploy?.prometheusPort ?? (await freePort());
    const rulesFile = writeFile(dir, "tfserving.rules.yml", renderRules(compressedRules(config)));
    const configText = renderPrometheusConfig(
      prometheusConfigInput(
        config,
        { target: `127.0.0.1:${simulator.port}`, scheme: tls ? "https" : "http" },
        { ruleFiles: [rulesFile], selfScrapeTarget: `127.0.0.1:${port}`, alertmanagerTargets, modelVersion, ...(tls ? { tlsConfig: { ca_file: tls.caFile } } : {}) },
      ),
    );
    const prometheus = await startPrometheus(port, writeFile(dir, "prometheus.yml", configText), dir);
    return { config, simulator, prometheus, dir };
  } catch (error) {
    await simulator.close();
    throw error;
  }
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.prometheus.stop();
  await stack.simulator.close();
  fs.rmSync(stack.dir, { recursive: true, force: true });
}

async function expectTargetUp(stack: Stack, scheme: "http" | "https"): Promise<void> {
  const url = `${scheme}://127.0.0.1:${stack.simulator.port}${stack.config.metricsPath}`;
  const target = await waitFor(`${stack.config.scrapeJobName} to be up`, 20_000, async () => {
    const found = (await stack.prometheus.targets()).find((candidate) => candidate.job === stack.config.scrapeJobName);
    if (found?.health !== "up") throw new Error(`target: ${JSON.stringify(found)}`);
    return found;
  });
  expect(target.scrapeUrl).toBe(url);
  // Prometheus 3 checks the Content-Type: TF Serving's bare text/plain must scrape without complaint.
  expect(target.lastError).toBe("");
}

const one = (samples: Sample[], what: string): number => {
  if (samples.length !== 1) throw new Error(`${what}: expected one sample, got ${JSON.stringify(samples)}`);
  return samples[0].value;
};

/** |actual - expected| <= tolerance, with the query named in the failure. */
function expectNear(what: string, actual: number, expected: number, tolerance: number): void {
  if (!(Math.abs(actual - expected) <= tolerance)) throw new Error(`${what}: ${actual} is not within ${expected} ± ${tolerance}`);
}

/** The histogram bucket (lower, upper], in ms, that holds a value given in microseconds. */
function bucketAround(boundsUs: readonly number[], valueUs: number): [number, number] {
  const index = boundsUs.findIndex((bound) => bound > valueUs);
  return [(boundsUs[index - 1] ?? 0) / 1000, boundsUs[index] / 1000];
}

function expectInBucket(what: string, actualMs: number, lowerMs: number, upperMs: number): void {
  if (!(actualMs > lowerMs && actualMs <= upperMs)) throw new Error(`${what}: ${actualMs} ms is outside the bucket (${lowerMs}, ${upperMs}] ms`);
}

const simulatedTotal = async (simulator: Simulator) =>
  (await simulator.metrics())
    .split("\n")
    .filter((line) => line.startsWith(":tensorflow:serving:request_count{"))
    .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);

describe("Prometheus scrapes an https target with a private CA (prod-style stack)", () => {
  let stack: Stack | undefined;
  const dir = tempDir("tfserving-e2e-tls");
  const config = parseStackConfig({
    stack: "prod",
    projectDir: dir,
    values: { modelDir: "model", deployTarget: "railway", railwayService: "tfserving", railwayToken: "set", publicEndpoint: "true", ...FAST },
  });

  beforeAll(async () => {
    stack = await startStack(config, { tls: makeTestCertificates(dir), dir });
  }, 60_000);
  afterAll(() => stopStack(stack));

  it("shows the job up at its https scrape URL and stores what it scraped", async () => {
    await expectTargetUp(stack!, "https");
    const total = servingQueries(config.modelName, config.scrapeJobName).totalRequests;
    const value = await waitFor("scraped requests", 20_000, async () => {
      const samples = await stack!.prometheus.query(total);
      return samples.length === 1 && samples[0].value > 0 ? samples[0].value : undefined;
    });
    expect(value).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * Objectives the scenarios of the threshold-alert block stay within (2% errors is 0.2x a 10% budget; the
 * slow scenario's 600-1000 ms is under 1274.82 ms), so that block sees only the threshold alerts; the
 * budget-burn alerts get a block of their own below.
 */
const LAX_SLOS = { sloAvailabilityObjective: "0.9", sloLatencyThresholdMs: "1274.82" };

describe("dashboard queries and alerts against a simulated TF Serving (dev stack, http)", () => {
  let stack: Stack | undefined;
  // Batching on, so the batching panel is on the dashboard and its queries are checked too.
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", enableBatching: "true", ...FAST, ...LAX_SLOS } });
  const rate = DEFAULT_BASE.ratePerSecond;
  // The simulated model ships warm-up requests, so the dashboard shows their time.
  const queries = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE, { warmup: true }))).panels.flatMap(
    (panel: { title: string; targets?: { refId: string; expr: string }[] }) =>
      (panel.targets ?? []).map((target) => ({ key: `${panel.title} ${target.refId}`, expr: compress(target.expr) })),
  ) as { key: string; expr: string }[];
  const queryOf = (key: string) => queries.find((query) => query.key === key)!.expr;

  /** Pending or firing alerts, sorted, as `name:state`. */
  const activeAlerts = async () => (await stack!.prometheus.alerts()).map(({ name, state }) => `${name}:${state}`).sort();
  const expectExactlyFiring = (names: AlertName[], what: string) =>
    waitFor(`exactly ${names.join(", ")} firing (${what})`, 30_000, async () => {
      const active = await activeAlerts();
      const expected = [...names, "Watchdog"].map((name) => `${name}:firing`).sort();
      if (JSON.stringify(active) !== JSON.stringify(expected)) throw new Error(`active: ${active.join(", ")}`);
      return active;
    });
  const waitForFiring = (name: AlertName, timeoutMs: number) =>
    waitFor(`${name} to fire`, timeoutMs, async () => {
      const active = await activeAlerts();
      if (!active.includes(`${name}:firing`)) throw new Error(`active: ${active.join(", ") || "none"}`);
      return active;
    });

  beforeAll(async () => {
    stack = await startStack(config);
  }, 60_000);
  afterAll(() => stopStack(stack));

  it("shows the job up at its http scrape URL, keeping the configured metrics path", async () => {
    await expectTargetUp(stack!, "http");
  }, 30_000);

  it("answers every dashboard panel query with the steady scenario's values; only Watchdog fires", async () => {
    // The longest compressed window (15m -> 60s) must be full of steady traffic before values are exact.
    const job = `up{job="${config.scrapeJobName}"}`;
    await waitFor("60s of scrapes", 90_000, async () => {
      const samples = await stack!.prometheus.query(`count_over_time(${job}[62s])`);
      return samples[0]?.value >= 61 ? true : undefined;
    });

    const before = await simulatedTotal(stack!.simulator);
    const now = Date.now() / 1000;
    const at = async (key: string, time = now) => stack!.prometheus.query(queryOf(key), time);
    const after = await simulatedTotal(stack!.simulator);
    const { errorRatio, latencyMs } = DEFAULT_BASE;
    const T = PANEL_TITLES;
    const I = INSIGHT_PANEL_TITLES;

    // Tolerances: a 4s window holds ~3s of increments counted in 100ms ticks, so ±20%; 20s and 60s windows ±10%.
    // Error ratio ±0.01 absolute (the simulator spreads failures evenly). Mean latency ±10% of the uniform
    // distribution's mean. Quantiles must land in the histogram bucket that holds the true value.
    const checks: Record<string, () => Promise<void>> = {
      [`${T.totalRequests} A`]: async () => {
        const total = one(await at(`${T.totalRequests} A`), "total");
        // Prometheus holds the last scrape (<= 1s old, allow 3s): between the simulator's count then and now.
        expect(total).toBeLessThanOrEqual(after);
        expect(total).toBeGreaterThanOrEqual(before - rate * 3);
        const series = await Promise.all([now - 20, now - 10, now].map(async (time) => one(await at(`${T.totalRequests} A`, time), "total")));
        expect(series[1]).toBeGreaterThan(series[0]);
        expect(series[2]).toBeGreaterThan(series[1]);
      },
      [`${T.requestsByStatus} A`]: async () => {
        const byStatus = Object.fromEntries((await at(`${T.requestsByStatus} A`)).map((sample) => [sample.metric.status, sample.value]));
        expect(Object.keys(byStatus).sort()).toEqual(["INVALID_ARGUMENT", "OK"]);
        const total = one(await at(`${T.totalRequests} A`), "total");
        expect(byStatus.OK + byStatus.INVALID_ARGUMENT).toBe(total);
        expectNear("share of INVALID_ARGUMENT", byStatus.INVALID_ARGUMENT / total, errorRatio, 0.01);
        const earlier = Object.fromEntries((await at(`${T.requestsByStatus} A`, now - 10)).map((sample) => [sample.metric.status, sample.value]));
        expect(byStatus.OK).toBeGreaterThan(earlier.OK);
        expect(byStatus.INVALID_ARGUMENT).toBeGreaterThanOrEqual(earlier.INVALID_ARGUMENT);
      },
      [`${T.throughput} A`]: async () => expectNear("throughput 1m", one(await at(`${T.throughput} A`), "rate"), rate, rate * 0.2),
      [`${T.throughput} B`]: async () => expectNear("throughput 5m", one(await at(`${T.throughput} B`), "rate"), rate, rate * 0.1),
      [`${T.errors} A`]: async () => expectNear("errors/s", one(await at(`${T.errors} A`), "errors"), rate * errorRatio, rate * 0.01),
      [`${T.errors} B`]: async () => expectNear("error ratio", one(await at(`${T.errors} B`), "ratio"), errorRatio, 0.01),
      [`${T.meanLatency} A`]: async () => {
        const mean = (latencyMs.min + latencyMs.max) / 2;
        expectNear("mean latency ms", one(await at(`${T.meanLatency} A`), "mean"), mean, mean * 0.1);
      },
      // Uniform 20-60 ms: p95 = 58 ms and p99 = 59.6 ms, both in the bucket (37481.3, 67466.4] us.
      [`${T.latencyQuantiles} A`]: async () => expectInBucket("p95", one(await at(`${T.latencyQuantiles} A`), "p95"), 37.4813, 67.4664),
      [`${T.latencyQuantiles} B`]: async () => expectInBucket("p99", one(await at(`${T.latencyQuantiles} B`), "p99"), 37.4813, 67.4664),
      [`${T.lowTraffic} A`]: async () => expectNear("low-traffic rate", one(await at(`${T.lowTraffic} A`), "rate"), rate, rate * 0.1),
      [`${T.spike} A`]: async () => expectNear("spike rate", one(await at(`${T.spike} A`), "rate"), rate, rate * 0.2),
      [`${T.spike} B`]: async () => expectNear("spike limit", one(await at(`${T.spike} B`), "limit"), config.spikeFactor * rate, config.spikeFactor * rate * 0.1),
      // Scrape mode has no `replica` label: the one scraped endpoint is one series (push mode is proven in pushMode.docker.test.ts).
      [`${T.replicaThroughput} A`]: async () => {
        const samples = await at(`${T.replicaThroughput} A`);
        expect(samples.map((sample) => sample.metric)).toEqual([{}]);
        expectNear("throughput per replica", samples[0].value, rate, rate * 0.2);
      },
      [`${T.replicaLatency} A`]: async () => expectInBucket("p95 per replica", one(await at(`${T.replicaLatency} A`), "p95"), 37.4813, 67.4664),
      // The scrape labels every series with the served version: one version, the whole traffic.
      [`${I.byVersion} A`]: async () => {
        const samples = await at(`${I.byVersion} A`);
        expect(samples.map((sample) => sample.metric)).toEqual([{ model_version: "1" }]);
        expectNear("throughput of version 1", samples[0].value, rate, rate * 0.2);
      },
      [`${I.byVersion} B`]: async () => expectInBucket("p95 of version 1", one(await at(`${I.byVersion} B`), "p95"), 37.4813, 67.4664),
      // The simulated session run is RUNTIME_SHARE of each request (uniform 16-48 ms: p95 46.4 ms), the queue wait
      // QUEUE_SHARE (2-6 ms: p95 5.8 ms), and the rest (mean 8 ms) is outside the model.
      [`${I.runtime} A`]: async () => expectInBucket("recorded request p95", one(await at(`${I.runtime} A`), "p95"), 37.4813, 67.4664),
      [`${I.runtime} B`]: async () => expectInBucket("recorded runtime p95", one(await at(`${I.runtime} B`), "p95"), 37.4813, 67.4664),
      [`${I.runtime} C`]: async () => {
        const outside = (1 - RUNTIME_SHARE) * ((latencyMs.min + latencyMs.max) / 2);
        expectNear("time outside the model", one(await at(`${I.runtime} C`), "outside"), outside, outside * 0.15);
      },
      [`${I.batching} A`]: async () => {
        const [lower, upper] = bucketAround(BOUNDS.queuingUs, QUEUE_SHARE * (latencyMs.min + 0.95 * (latencyMs.max - latencyMs.min)) * 1000);
        expectInBucket("recorded queue wait p95", one(await at(`${I.batching} A`), "queue p95"), lower, upper);
      },
      // The simulator runs what arrived in each 100 ms tick as one batch: about rate / 10 rows.
      [`${I.batching} B`]: async () => expectNear("rows per batch", one(await at(`${I.batching} B`), "rows per batch"), rate / 10, rate / 10 * 0.3),
      [`${I.batching} C`]: async () => expect(one(await at(`${I.batching} C`), "rows per request")).toBe(1),
      [`${I.loads} A`]: async () => {
        const byStatus = await at(`${I.loads} A`);
        expect(byStatus.map(({ metric, value }) => ({ metric, value }))).toEqual([{ metric: { status: "success" }, value: 1 }]);
      },
      [`${I.loadTime} A`]: async () => {
        const loads = await at(`${I.loadTime} A`);
        expect(loads.map(({ metric, value }) => ({ metric, value }))).toEqual([{ metric: { model_path: `/models/${config.modelName}/1` }, value: LOAD_US / 1e6 }]);
      },
      [`${I.loadTime} B`]: async () => {
        const warmups = await at(`${I.loadTime} B`);
        expect(warmups.map(({ metric, value }) => ({ metric, value }))).toEqual([{ metric: { model_path: `/models/${config.modelName}/1`, status: "OK" }, value: WARMUP_US / 1e6 }]);
      },
      // Graph runs take the session's time (16-48 ms): p95 46.4 ms in (32, 64] ms, mean 32 ms, one run per request.
      [`${I.graphRuns} A`]: async () => expectInBucket("recorded graph run p95", one(await at(`${I.graphRuns} A`), "p95"), 32, 64),
      [`${I.graphRuns} B`]: async () => expectNear("mean graph run", one(await at(`${I.graphRuns} B`), "mean"), 32, 32 * 0.1),
      [`${I.graphRuns} C`]: async () => expectNear("graph runs per second", one(await at(`${I.graphRuns} C`), "runs/s"), rate, rate * 0.2),
      // This stack scrapes the simulator without a front door: no edge series. The real caddy's answers by
      // code in this same query are proven in tests/frontDoor/frontDoor.e2e.test.ts.
      [`${T.edgeResponses} A`]: async () => expect(await at(`${T.edgeResponses} A`)).toEqual([]),
      ...sloChecks(at, { config, errorRatio }),
    };
    // Every query of the built dashboard is checked, and nothing else: a new panel needs an expectation here.
    expect(queries.map((query) => query.key).sort()).toEqual(Object.keys(checks).sort());
    for (const check of Object.values(checks)) await check();

    expect(await activeAlerts()).toEqual(["Watchdog:firing"]);
  }, 150_000);

  it("fires TFServingTrafficSpike on a spike, and nothing else", async () => {
    stack!.simulator.setScenario(presetScenario("spike"));
    await waitForFiring("TFServingTrafficSpike", 30_000);
    const spikeRate = one(await stack!.prometheus.query(queryOf(`${PANEL_TITLES.throughput} A`)), "rate");
    expectNear("throughput during the spike", spikeRate, rate * SPIKE_MULTIPLIER, rate * SPIKE_MULTIPLIER * 0.25);
    await expectExactlyFiring(["TFServingTrafficSpike"], "spike");
  }, 60_000);

  it("fires TFServingHighErrorRate when a quarter of requests fail, and nothing else", async () => {
    stack!.simulator.setScenario(presetScenario("errors"));
    await waitForFiring("TFServingHighErrorRate", 60_000);
    // The alert's for (20s) has passed, so the 20s window holds only the errors scenario.
    expectNear("error ratio", one(await stack!.prometheus.query(queryOf(`${PANEL_TITLES.errors} B`)), "ratio"), 0.25, 0.03);
    const statuses = (await stack!.prometheus.query(queryOf(`${PANEL_TITLES.requestsByStatus} A`))).map((sample) => sample.metric.status);
    expect(statuses.sort()).toEqual(["INVALID_ARGUMENT", "OK", "UNAVAILABLE"]);
    await expectExactlyFiring(["TFServingHighErrorRate"], "errors");
  }, 90_000);

  it("fires TFServingHighLatencyP95 when requests slow down, and nothing else", async () => {
    stack!.simulator.setScenario(presetScenario("slow"));
    await waitForFiring("TFServingHighLatencyP95", 60_000);
    // Uniform 600-1000 ms: p95 = 980 ms in the bucket (708235, 1.27482e+06] us; mean 800 ms.
    expectInBucket("p95 while slow", one(await stack!.prometheus.query(queryOf(`${PANEL_TITLES.latencyQuantiles} A`)), "p95"), 708.235, 1274.82);
    expectNear("mean latency while slow", one(await stack!.prometheus.query(queryOf(`${PANEL_TITLES.meanLatency} A`)), "mean"), 800, 80);
    await expectExactlyFiring(["TFServingHighLatencyP95"], "slow");
  }, 90_000);

  it("fires TFServingLowTraffic on silence while the target stays up, and nothing else", async () => {
    stack!.simulator.setScenario(presetScenario("silence"));
    await waitForFiring("TFServingLowTraffic", 120_000);
    expect(one(await stack!.prometheus.query(queryOf(`${PANEL_TITLES.lowTraffic} A`)), "rate")).toBe(0);
    const total = queryOf(`${PANEL_TITLES.totalRequests} A`);
    const [earlier, later] = await Promise.all([Date.now() / 1000 - 5, Date.now() / 1000].map(async (time) => one(await stack!.prometheus.query(total, time), "total")));
    expect(later).toBe(earlier);
    await expectExactlyFiring(["TFServingLowTraffic"], "silence");
  }, 150_000);

  it("fires TFServingTargetDown when TF Serving stops answering", async () => {
    await stack!.simulator.close();
    await waitForFiring("TFServingTargetDown", 30_000);
    const target = (await stack!.prometheus.targets()).find((candidate) => candidate.job === config.scrapeJobName);
    expect(target?.health).toBe("down");
    await expectExactlyFiring(["TFServingLowTraffic", "TFServingTargetDown"], "target down");
  }, 60_000);
});

/**
 * The SLO row's queries in the steady scenario: the availability SLO at `objective` burns errorRatio /
 * (1 - objective); every latency (20-60 ms) is under the threshold, so the latency SLO burns nothing.
 */
function sloChecks(at: (key: string) => Promise<Sample[]>, { config, errorRatio }: { config: StackConfig; errorRatio: number }) {
  const S = SLO_PANEL_TITLES;
  const value = async (key: string) => one(await at(key), key);
  const burn = errorRatio / (1 - config.sloAvailabilityObjective);
  const checks: Record<string, () => Promise<void>> = {};
  for (const slo of ["availability", "latency"] as const) {
    const [sli, sliTolerance, burnRate] = slo === "availability" ? [1 - errorRatio, 0.01, burn] : [1, 0, 0];
    const objective = slo === "availability" ? config.sloAvailabilityObjective : config.sloLatencyObjective;
    checks[`${S.objective(slo)} A`] = async () => expect(await value(`${S.objective(slo)} A`)).toBe(objective);
    checks[`${S.sli(slo)} A`] = async () => expectNear(`${slo} SLI over the period`, await value(`${S.sli(slo)} A`), sli, sliTolerance);
    // The simulator spreads failures evenly, so a 20s window is off by one failure at most: burn rates ±25%.
    checks[`${S.budget(slo)} A`] = async () => expectNear(`${slo} budget left`, await value(`${S.budget(slo)} A`), 1 - burnRate, burnRate * 0.25);
    for (const ref of ["A", "B", "C"]) {
      checks[`${S.burnRate(slo)} ${ref}`] = async () => expectNear(`${slo} burn rate ${ref}`, await value(`${S.burnRate(slo)} ${ref}`), burnRate, burnRate * 0.25);
    }
  }
  return checks;
}

describe("budget-burn page: 20% of requests failing (dev stack, http, default objectives)", () => {
  let stack: Stack | undefined;
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...FAST } });
  const clean: Scenario = { ...presetScenario("steady"), name: "clean", errorRatio: 0 };

  beforeAll(async () => {
    stack = await startStack(config, { scenario: clean });
  }, 60_000);
  afterAll(() => stopStack(stack));

  it("answers the SLO row's queries, then pages TFServingAvailabilityBudgetBurn (critical) and nothing about latency", async () => {
    await expectTargetUp(stack!, "http");
    const rows = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE))).panels.flatMap(
      (panel: { title: string; targets?: { refId: string; expr: string }[] }) =>
        (panel.targets ?? []).map((target) => ({ key: `${panel.title} ${target.refId}`, expr: compress(target.expr) })),
    ) as { key: string; expr: string }[];
    const at = (key: string) => stack!.prometheus.query(rows.find((row) => row.key === key)!.expr);
    // The compressed 5m window (20s) full of clean traffic: every SLO query answers, every burn rate is 0.
    await waitFor("the SLO series of 20s of clean traffic", 60_000, async () => {
      const samples = await at(`${SLO_PANEL_TITLES.burnRate("availability")} A`);
      return samples.length === 1 ? true : undefined;
    });
    await sleep(20_000);
    const checks = sloChecks(at, { config, errorRatio: 0 });
    expect(Object.keys(checks).sort()).toEqual(rows.map((row) => row.key).filter((key) => key.startsWith("Availability") || key.startsWith("Latency")).sort());
    for (const check of Object.values(checks)) await check();

    stack!.simulator.setScenario({ ...clean, name: "fail 20%", errorRatio: 0.2, errorStatuses: ["UNAVAILABLE"] });
    // promtool proves the production windows page within 5 minutes (tests/slo/rules.test.ts); here the real
    // Prometheus, scraping the simulator, has to get there with the same rules.
    const page = await waitFor("the availability page", 90_000, async () => {
      const alerts = await stack!.prometheus.alerts();
      const found = alerts.find((alert) => alert.name === "TFServingAvailabilityBudgetBurn" && alert.labels.severity === "critical" && alert.state === "firing");
      if (!found) throw new Error(`active: ${alerts.map((alert) => `${alert.name}/${alert.labels.severity}:${alert.state}`).join(", ") || "none"}`);
      return { alerts, found };
    });
    expect(page.found.labels).toMatchObject({ sloth_severity: "page", sloth_service: config.modelName, sloth_slo: "availability", job: config.scrapeJobName });
    expect(page.alerts.filter((alert) => alert.name === "TFServingLatencyBudgetBurn")).toEqual([]);
    const burnNow = one(await at(`${SLO_PANEL_TITLES.burnRate("availability")} A`), "burn rate now");
    expect(burnNow).toBeGreaterThan(14.4);
  }, 240_000);
});

describe("Alertmanager: a target that goes down pages once (dev stack, http)", () => {
  let stack: Stack | undefined;
  let alertmanager: AlertmanagerServer | undefined;
  let receiver: WebhookReceiver | undefined;
  const dir = tempDir("tfserving-e2e-alertmanager");
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...FAST, ...LAX_SLOS } });
  /** Alert names at the webhook, firing ones only, each once. */
  const deliveredFiring = () => [...new Set(receiver!.received().filter((alert) => alert.status === "firing").map((alert) => alert.alertname))].sort();

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ listenHost: "127.0.0.1", urlHost: "127.0.0.1" });
    // The stack's alertmanager.yml with notification delays compressed like the rules (30s and 5m would outlast the test).
    const rendered = alertmanagerConfig({ webhookUrl: receiver.url }) as { route: Record<string, unknown> };
    const compressed = { ...rendered, route: { ...rendered.route, group_wait: "1s", group_interval: "1s" } };
    const port = await freePort();
    alertmanager = await startAlertmanager(port, writeFile(dir, "alertmanager.yml", stringify(compressed)), dir);
    stack = await startStack(config, { dir, alertmanagerTargets: [`127.0.0.1:${port}`] });
  }, 60_000);
  afterAll(async () => {
    await alertmanager?.stop();
    await receiver?.close();
    await stopStack(stack);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("delivers only TFServingTargetDown while TFServingLowTraffic, blind without data, is inhibited", async () => {
    await expectTargetUp(stack!, "http");
    await waitFor("Watchdog at the webhook (the delivery path works)", 30_000, async () => {
      if (deliveredFiring().includes("Watchdog")) return true;
      throw new Error(`delivered: ${deliveredFiring().join(", ") || "nothing"}; Alertmanager holds ${JSON.stringify(await alertmanager!.alerts())}`);
    });

    await stack!.simulator.close();
    // Without scrapes the request rate reads as zero, so TFServingLowTraffic fires in Prometheus after its compressed for.
    await waitFor("TFServingTargetDown and TFServingLowTraffic firing in Prometheus", 90_000, async () => {
      const firing = (await stack!.prometheus.alerts()).filter((alert) => alert.state === "firing").map((alert) => alert.name);
      if (!firing.includes("TFServingTargetDown") || !firing.includes("TFServingLowTraffic")) throw new Error(`firing: ${firing.join(", ")}`);
      return true;
    });
    const inhibited = await waitFor("Alertmanager to hold TFServingLowTraffic back", 30_000, async () => {
      const alert = (await alertmanager!.alerts()).find((candidate) => candidate.name === "TFServingLowTraffic");
      if (alert?.state !== "suppressed") throw new Error(`TFServingLowTraffic in Alertmanager: ${JSON.stringify(alert)}`);
      return alert;
    });
    expect(inhibited.inhibitedBy).toHaveLength(1);
    expect(inhibited.labels.job).toBe(config.scrapeJobName);
    // Several group intervals: an uninhibited alert would have been delivered by now.
    await sleep(5000);
    expect(deliveredFiring()).toEqual(["TFServingTargetDown", "Watchdog"]);
  }, 150_000);
});

describe("a deploy of another model version under the simulator (dev stack, http)", () => {
  let stack: Stack | undefined;
  const dir = tempDir("tfserving-e2e-version");
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...FAST } });
  const rate = DEFAULT_BASE.ratePerSecond;
  const panelQueries = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE))).panels.find(
    (panel: { title: string }) => panel.title === INSIGHT_PANEL_TITLES.byVersion,
  ).targets as { expr: string }[];
  const queries = servingQueries(config.modelName, config.scrapeJobName);
  const byVersion = compress(panelQueries[0].expr);
  const p95ByVersion = compress(panelQueries[1].expr);
  // The panel's 1m rate (4s compressed) may lose version 1 within the restart gap; its 5m twin keeps both for 20s.
  const rateByVersion5m = compress(queries.requestRateByVersion("5m"));
  const totalRate = compress(queries.requestRate("5m"));

  beforeAll(async () => {
    stack = await startStack(config, { dir, modelVersion: "1" });
  }, 60_000);
  afterAll(async () => {
    await stopStack(stack);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("shows versions 1 and 2 side by side after the deploy, while the total rate and its recorded series stay continuous", async () => {
    await expectTargetUp(stack!, "http");
    // A full compressed 5m window (20s) of version 1 before the earliest time checked below (8s before the deploy).
    await waitFor("30s of version 1", 60_000, async () => {
      const samples = await stack!.prometheus.query(`count_over_time(up{job="${config.scrapeJobName}",model_version="1"}[32s])`);
      return samples[0]?.value >= 31 ? true : undefined;
    });

    // The deploy in the program's order: the serving container is replaced by version 2 (counters from zero; the old
    // Prometheus still labels it version 1, a counter reset), then Prometheus is replaced with a config whose target
    // label names version 2, on the same TSDB.
    const ports = { simulator: stack!.simulator.port, prometheus: Number(new URL(stack!.prometheus.url).port) };
    await stack!.simulator.close();
    const deployedAt = Date.now() / 1000;
    const simulator = await startStackSimulator(config, "2", { port: ports.simulator });
    stack = { ...stack!, simulator };
    await sleep(3000);
    await stack.prometheus.stop();
    stack = await startStack(config, { dir, modelVersion: "2", redeploy: { prometheusPort: ports.prometheus, simulator } });

    for (const expr of [rateByVersion5m, p95ByVersion]) {
      await waitFor(`versions 1 and 2 side by side in ${expr}`, 15_000, async () => {
        const samples = await stack!.prometheus.query(expr);
        const versions = samples.map((sample) => sample.metric.model_version).sort();
        return JSON.stringify(versions) === JSON.stringify(["1", "2"]) && samples.every((sample) => sample.value > 0) ? samples : undefined;
      });
    }

    // Until version 1 has left the 20s window and beyond, the total 5m rate and the recorded one stay near the simulated
    // rate: one series, never split, never reset, no double count. What rate() cannot see is the increase between the
    // last sample labelled 1 and the first labelled 2 (the Prometheus restart, ~3s of this compressed 20s window; about
    // one scrape interval of a real 5m window), hence the lower bound.
    await sleep(25_000);
    const within = (what: string, value: number) => {
      if (!(value >= rate * 0.6 && value <= rate * 1.2)) throw new Error(`${what}: ${value} is outside ${rate * 0.6}..${rate * 1.2}`);
    };
    const times = Array.from({ length: 15 }, (_, i) => deployedAt - 8 + i * 2);
    for (const time of times) {
      const at = `${(time - deployedAt).toFixed(0)}s after the deploy`;
      within(`total rate ${at}`, one(await stack!.prometheus.query(totalRate, time), "total rate"));
      const recorded = await stack!.prometheus.query(RECORDED.requestRate5m, time);
      expect(recorded.map((sample) => sample.metric)).toEqual([{ __name__: RECORDED.requestRate5m, model_name: config.modelName }]);
      within(`recorded rate ${at}`, recorded[0].value);
    }
    expect((await stack!.prometheus.query(byVersion)).map((sample) => sample.metric.model_version)).toEqual(["2"]);
  }, 150_000);
});

describe("every dashboard query in push mode: the simulator, a real Prometheus agent with the rendered agent config, the receiver", () => {
  const dir = tempDir("tfserving-e2e-push");
  const config = parseStackConfig({
    stack: "dev",
    projectDir: "/project",
    values: { modelDir: "model", metricsMode: "push", enableBatching: "true", ...FAST },
  });
  let simulator: Simulator | undefined;
  let receiver: PrometheusServer | undefined;
  let agent: ServerProcess | undefined;
  // The agent here scrapes the simulator without a front door: the edge panel is proven against the real caddy
  // in tests/frontDoor/frontDoor.e2e.test.ts.
  const panelQueries = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE, { warmup: true })))
    .panels.filter((panel: { title: string }) => panel.title !== PANEL_TITLES.edgeResponses)
    .flatMap((panel: { title: string; targets?: { refId: string; expr: string }[] }) =>
      (panel.targets ?? []).map((target) => ({ key: `${panel.title} ${target.refId}`, expr: compress(target.expr) })),
    ) as { key: string; expr: string }[];

  beforeAll(async () => {
    simulator = await startSimulator({
      modelName: config.modelName,
      metricsPath: config.servedMetricsPath,
      scenario: presetScenario("steady"),
      batching: true,
      warmup: true,
      version: "4",
    });
    // The receiver as the program renders it, without the login (the Docker push-mode suite proves that part).
    const receiverPort = await freePort();
    const rulesFile = writeFile(dir, "tfserving.rules.yml", renderRules(compressedRules(config)));
    const receiverConfig = renderPrometheusConfig(prometheusConfigInput(config, undefined, { ruleFiles: [rulesFile], selfScrapeTarget: `127.0.0.1:${receiverPort}` }));
    receiver = await startPrometheus(receiverPort, writeFile(dir, "receiver.yml", receiverConfig), dir, ["--web.enable-remote-write-receiver"]);

    // The agent config exactly as the image carries it, pointed at the simulator; only the password file moves out of /tmp/tfserving-agent.
    const spec = agentSpec(config, `${receiver.url}${REMOTE_WRITE_PATH}`, undefined, "4");
    const rendered = agentConfig({ ...spec.config, restPort: simulator.port }) as { remote_write: { basic_auth: { password_file: string } }[] };
    rendered.remote_write[0].basic_auth.password_file = writeFile(dir, "receiver.password", "unchecked-here");
    const agentPort = await freePort();
    agent = await startServerProcess(
      "prometheus agent",
      monitoringTool("prometheus"),
      ["--agent", `--config.file=${writeFile(dir, "agent.yml", stringify(rendered))}`, `--storage.agent.path=${dir}/wal`, `--web.listen-address=127.0.0.1:${agentPort}`],
      `http://127.0.0.1:${agentPort}/-/ready`,
      // The entrypoint exports these for the agent's external labels.
      { [AGENT_LABEL_ENV.replica]: "replica-a", [AGENT_LABEL_ENV.region]: "local" },
    );
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await receiver?.stop();
    await simulator?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers every panel query, the series labelled with the served version and the replica", async () => {
    // Pushed in batches: wait until the longest compressed window (60s) is full.
    await waitFor("60s of pushed samples", 120_000, async () => {
      const samples = await receiver!.query(`count_over_time(up{job="${config.scrapeJobName}"}[62s])`);
      return samples[0]?.value >= 55 ? true : undefined;
    });
    const empty: string[] = [];
    for (const { key, expr } of panelQueries) if ((await receiver!.query(expr)).length === 0) empty.push(key);
    expect(empty).toEqual([]);

    const byVersion = await receiver!.query(panelQueries.find(({ key }) => key === `${INSIGHT_PANEL_TITLES.byVersion} A`)!.expr);
    expect(byVersion.map((sample) => sample.metric)).toEqual([{ model_version: "4" }]);
    const raw = await receiver!.query(`:tensorflow:cc:saved_model:load_attempt_count`);
    expect(raw.map((sample) => sample.metric)).toEqual([
      expect.objectContaining({ model_path: `/models/${config.modelName}/4`, status: "success", replica: "replica-a", region: "local", model_version: "4" }),
    ]);
    // The recorded series keep only the model: a deploy's new version and replicas continue the same series.
    const recorded = await receiver!.query(RECORDED_INTERNALS.runtimeP95Ms5m);
    expect(recorded.map((sample) => sample.metric)).toEqual([{ __name__: RECORDED_INTERNALS.runtimeP95Ms5m, model_name: config.modelName }]);
  }, 180_000);

  it("fires TFServingModelLoadFailed for a version that fails to load, naming its path and the replica", async () => {
    simulator!.failLoad("5");
    const alert = await waitFor("TFServingModelLoadFailed to fire", 60_000, async () =>
      (await receiver!.alerts()).find((candidate) => candidate.name === "TFServingModelLoadFailed" && candidate.state === "firing"),
    );
    expect(alert.labels).toMatchObject({ model_path: `/models/${config.modelName}/5`, replica: "replica-a", job: config.scrapeJobName, severity: "warning" });
  }, 90_000);
});
