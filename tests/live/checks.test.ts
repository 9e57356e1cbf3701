/**
 * The live test's check functions against real servers: Prometheus and Alertmanager (the rendered
 * configs and rules) scraping the TF Serving simulator, the fake TF Serving, and a stand-in for the
 * Grafana API calls. Each check is shown to pass on a healthy system and to fail, naming the problem,
 * on a broken one.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { parseStackConfig } from "../../components/config/stackConfig";
import { PANEL_TITLES, buildDashboard, dashboardInput, dashboardUid } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { renderAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { loadSampleRows } from "../../components/serving/tfExample";
import * as checks from "../../scripts/live/checks";
import { WebhookReceiver, startWebhookReceiver } from "../../scripts/live/webhookReceiver";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { AlertmanagerServer, startAlertmanager } from "../support/alertmanagerServer";
import { startFakeTfServing } from "../support/fakeTfServing";
import { GrafanaStandIn, startGrafanaStandIn } from "../support/grafanaStandIn";
import { PrometheusServer, startPrometheus } from "../support/prometheusServer";
import { freePort } from "../support/serverProcess";
import { tempDir, writeFile } from "../support/promtool";

const config = parseStackConfig({
  stack: "dev",
  projectDir: "/project",
  values: { modelDir: "model", globalScrapeInterval: "1s", scrapeInterval: "1s", evaluationInterval: "1s", alertmanagerWebhookUrl: "http://127.0.0.1:1/set-below" },
});
const model = config.modelName;
const rows = loadSampleRows();
const dashboard = buildDashboard(dashboardInput(config, PROMETHEUS_DATA_SOURCE)) as unknown as Parameters<typeof checks.dashboardQueries>[0] & { uid: string; title: string };
// The simulator stands for TF Serving alone: no front door here, so no edge series (the live test has the door).
const queries = checks.dashboardQueries(dashboard).filter((query) => !query.key.startsWith(PANEL_TITLES.edgeResponses));
const auth = { user: "admin", password: "generated-password-1234567890ab" };

describe("TF Serving checks", () => {
  it("checkModelAvailable passes once every version is AVAILABLE, and names the state it is stuck in", async () => {
    const loading = await startFakeTfServing({ states: ["LOADING", "AVAILABLE"] });
    const stuck = await startFakeTfServing({ states: ["LOADING"] });
    try {
      await expect(checks.checkModelAvailable(loading.url, model, 5000)).resolves.toBe("version 1763528202 AVAILABLE");
      await expect(checks.checkModelAvailable(stuck.url, model, 1500)).rejects.toThrow(/LOADING.*still so after/);
    } finally {
      await Promise.all([loading.close(), stuck.close()]);
    }
  });

  it("checkPredictions accepts answers within 1e-5 of the expected probabilities and lists the rows that are not", async () => {
    const serving = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 200, body: { predictions: [[0.7312345]] } } });
    try {
      const expected = rows.slice(0, 3).map((row) => ({ row, probability: 0.731238 }));
      await expect(checks.checkPredictions(serving.url, model, expected)).resolves.toBe("3 predictions within 0.00001 of the bundled model's");
      // Every request was a tf.Example through the project's client.
      expect(serving.predictBodies).toHaveLength(3);
      expected[1] = { row: rows[1], probability: 0.7312545 };
      await expect(checks.checkPredictions(serving.url, model, expected)).rejects.toThrow(/1 of 3 predictions differ by more than 0.00001: row 1: got 0.7312345, expected 0.7312545/);
      await expect(checks.checkPredictions(serving.url, model, [])).rejects.toThrow(/no expected predictions/);
    } finally {
      await serving.close();
    }
  });

  it("parseRequestCounts sums request_count of one model by status from TF Serving's exposition", () => {
    const text = [
      "# TYPE :tensorflow:serving:request_count counter",
      ':tensorflow:serving:request_count{model_name="diabetes-prediction",status="OK"} 12',
      ':tensorflow:serving:request_count{model_name="diabetes-prediction",status="INVALID_ARGUMENT"} 3',
      ':tensorflow:serving:request_count{model_name="other",status="OK"} 99',
      ':tensorflow:serving:request_latency_count{model_name="diabetes-prediction",API="predict",entrypoint="REST"} 12',
    ].join("\n");
    expect(checks.parseRequestCounts(text, "diabetes-prediction")).toEqual({ OK: 12, INVALID_ARGUMENT: 3 });
  });

  it("checkServedCounts wants exactly the traffic sent, and nothing else, in the counters", () => {
    expect(checks.checkServedCounts({ OK: 5 }, { OK: 25, INVALID_ARGUMENT: 3 }, { ok: 20, invalidArgument: 3 })).toMatch(/20 OK and 3 INVALID_ARGUMENT/);
    expect(() => checks.checkServedCounts({ OK: 5 }, { OK: 24, INVALID_ARGUMENT: 3 }, { ok: 20, invalidArgument: 3 })).toThrow(/OK moved by 19, expected 20/);
    expect(() => checks.checkServedCounts({}, { OK: 20, INVALID_ARGUMENT: 3, UNAVAILABLE: 1 }, { ok: 20, invalidArgument: 3 })).toThrow(/UNAVAILABLE moved by 1, expected 0/);
  });
});

describe("monitoring checks against a real Prometheus and Alertmanager scraping the simulator", () => {
  const dir = tempDir("live-checks");
  let simulator: Simulator | undefined;
  let receiver: WebhookReceiver | undefined;
  let alertmanager: AlertmanagerServer | undefined;
  let prometheus: PrometheusServer | undefined;
  let grafana: GrafanaStandIn | undefined;
  let sent: checks.TrafficSent | undefined;
  let served: Record<string, number> = {};

  beforeAll(async () => {
    // No synthetic traffic and no simulated errors: the counters move only with the requests a check sends.
    simulator = await startSimulator({
      modelName: model,
      metricsPath: config.metricsPath,
      scenario: { name: "quiet", ratePerSecond: 0, errorRatio: 0, errorStatuses: [], latencyMs: { min: 1, max: 3 } },
    });
    receiver = await startWebhookReceiver({ listenHost: "127.0.0.1", urlHost: "127.0.0.1" });
    alertmanager = await startAlertmanager(await freePort(), writeFile(dir, "alertmanager.yml", renderAlertmanagerConfig({ webhookUrl: receiver.url })), dir);
    const port = await freePort();
    const rulesFile = writeFile(dir, "rules.yml", renderRules(ruleGroups(rulesInput(config))));
    const configText = renderPrometheusConfig(
      prometheusConfigInput(config, { target: `127.0.0.1:${simulator.port}`, scheme: "http" }, { ruleFiles: [rulesFile], selfScrapeTarget: `127.0.0.1:${port}`, alertmanagerTargets: [new URL(alertmanager.url).host] }),
    );
    prometheus = await startPrometheus(port, writeFile(dir, "prometheus.yml", configText), dir);
    grafana = await startGrafanaStandIn({ ...auth, prometheusUrl: prometheus.url, dataSourceUid: PROMETHEUS_DATA_SOURCE.uid, dashboard });
  }, 60_000);

  afterAll(async () => {
    await grafana?.close();
    await prometheus?.stop();
    await alertmanager?.stop();
    await receiver?.close();
    await simulator?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const metricsUrl = () => `${simulator!.url}${config.metricsPath}`;

  it("checkScrapeTarget finds the TF Serving job up without a scrape error, and names a job that has no target", async () => {
    await expect(checks.checkScrapeTarget(prometheus!.url, config.scrapeJobName, 20_000)).resolves.toBe(`${metricsUrl()} up, no scrape error`);
    await expect(checks.checkScrapeTarget(prometheus!.url, "tf-serving-elsewhere", 1500)).rejects.toThrow(/no active target; jobs: .*tf-serving-local/);
  }, 30_000);

  it("sendTraffic's predictions and malformed requests are exactly what TF Serving's counters show", async () => {
    const before = await checks.servedRequestCounts(metricsUrl(), model);
    sent = await checks.sendTraffic(simulator!.url, model, rows, { valid: 7, malformed: 3 });
    served = await checks.servedRequestCounts(metricsUrl(), model);
    expect(checks.checkServedCounts(before, served, sent)).toMatch(/7 OK and 3 INVALID_ARGUMENT/);
    // A server that answers a malformed request with 200 is caught.
    const lenient = http.createServer((_, response) => response.writeHead(200, { "content-type": "application/json" }).end('{"predictions": [[0.5]]}'));
    await new Promise<void>((resolve) => lenient.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(lenient.address() as AddressInfo).port}`;
      await expect(checks.sendTraffic(url, model, rows, { valid: 1, malformed: 1 })).rejects.toThrow(/a malformed predict got HTTP 200 .*TF Serving answers INVALID_ARGUMENT with 400/);
    } finally {
      await new Promise((resolve) => lenient.close(resolve));
    }
  }, 30_000);

  it("checkPrometheusCounts sees TF Serving's counts within one scrape, and reports a count it never reaches", async () => {
    const expected = { OK: served.OK, INVALID_ARGUMENT: served.INVALID_ARGUMENT };
    expect(expected.INVALID_ARGUMENT).toBe(3);
    await expect(checks.checkPrometheusCounts(prometheus!.url, model, expected, 3000)).resolves.toBe(`Prometheus shows ${expected.OK} OK, 3 INVALID_ARGUMENT`);
    await expect(checks.checkPrometheusCounts(prometheus!.url, model, { ...expected, OK: expected.OK + 1 }, 1500)).rejects.toThrow(
      new RegExp(`OK: Prometheus has ${expected.OK}, TF Serving counted ${expected.OK + 1}`),
    );
  }, 30_000);

  it("checkDashboardQueries gets data for every query of the built dashboard, and names a query without data", async () => {
    // The SLO row reads request rates, which need counters that move after their series exist (the first requests only create them).
    await checks.sendTraffic(simulator!.url, model, rows, { valid: 2, malformed: 0 });
    await expect(checks.checkDashboardQueries(prometheus!.url, queries, 50_000)).resolves.toBe(`${queries.length} queries return data`);
    const broken = [...queries, { key: "Made-up panel A", expr: 'sum(:tensorflow:serving:request_count{model_name="nobody"})' }];
    await expect(checks.checkDashboardQueries(prometheus!.url, broken, 1500)).rejects.toThrow(/1 of \d+ queries return no data: Made-up panel A/);
  }, 60_000);

  it("checkAlertReceived sees Watchdog arrive through Alertmanager at the webhook (after its 30s group_wait)", async () => {
    await expect(checks.checkAlertReceived(receiver!.received, "Watchdog", 75_000)).resolves.toBe("Watchdog (firing) delivered to the webhook");
    await expect(checks.checkAlertReceived(receiver!.received, "TFServingTargetDown", 1500)).rejects.toThrow(/received .*Watchdog \(firing\)/);
  }, 90_000);

  describe("Grafana checks (against the stand-in)", () => {
    it("checkGrafanaLogin: the admin password works and a wrong one gets 401", async () => {
      await expect(checks.checkGrafanaLogin(grafana!.url, auth)).resolves.toBe("admin logs in; a wrong password gets 401");
      await expect(checks.checkGrafanaLogin(grafana!.url, { ...auth, password: "not-it" })).rejects.toThrow(/login as admin failed: HTTP 401 Unauthorized/);
    });

    it("checkAnonymousRefused passes when Grafana asks for credentials and fails when it lets anonymous users in", async () => {
      await expect(checks.checkAnonymousRefused(grafana!.url, dashboard.uid)).resolves.toBe("anonymous requests get 401");
      const open = await startGrafanaStandIn({ ...auth, prometheusUrl: prometheus!.url, dataSourceUid: PROMETHEUS_DATA_SOURCE.uid, dashboard, anonymous: true });
      try {
        await expect(checks.checkAnonymousRefused(open.url, dashboard.uid)).rejects.toThrow(/anonymous GET \/api\/user got HTTP 200/);
      } finally {
        await open.close();
      }
    });

    it("checkDataSourceHealth is OK when Grafana reaches Prometheus and quotes the error when it does not", async () => {
      await expect(checks.checkDataSourceHealth(grafana!.url, auth, PROMETHEUS_DATA_SOURCE.uid)).resolves.toBe(`data source ${PROMETHEUS_DATA_SOURCE.uid}: Successfully queried the Prometheus API.`);
      const cutOff = await startGrafanaStandIn({ ...auth, prometheusUrl: `http://127.0.0.1:${await freePort()}`, dataSourceUid: PROMETHEUS_DATA_SOURCE.uid, dashboard });
      try {
        await expect(checks.checkDataSourceHealth(cutOff.url, auth, PROMETHEUS_DATA_SOURCE.uid)).rejects.toThrow(/health: HTTP 400 ERROR Post/);
      } finally {
        await cutOff.close();
      }
    });

    it("checkDashboardPanels finds every panel title by uid, and names a missing panel or dashboard", async () => {
      const titles = Object.values(PANEL_TITLES);
      await expect(checks.checkDashboardPanels(grafana!.url, auth, dashboardUid(model), titles)).resolves.toBe(`dashboard ${dashboard.uid} has all ${titles.length} panels`);
      await expect(checks.checkDashboardPanels(grafana!.url, auth, dashboardUid(model), [...titles, "Queue depth"])).rejects.toThrow(/lacks the panels Queue depth/);
      await expect(checks.checkDashboardPanels(grafana!.url, auth, "no-such-uid", titles)).rejects.toThrow(/dashboard no-such-uid: HTTP 404 Dashboard not found/);
    });

    it("checkPanelQuery gets data frames from /api/ds/query for a panel's query, and fails on a query without data", async () => {
      const throughput = queries.find((query) => query.key === `${PANEL_TITLES.throughput} A`)!;
      const dataSource = { uid: PROMETHEUS_DATA_SOURCE.uid, type: PROMETHEUS_DATA_SOURCE.type };
      await expect(checks.checkPanelQuery(grafana!.url, auth, dataSource, throughput)).resolves.toMatch(/^\/api\/ds\/query for Throughput A: 1 frame\(s\) with values$/);
      await expect(checks.checkPanelQuery(grafana!.url, auth, dataSource, { key: "Nothing A", expr: "absent_metric_of_nobody" })).rejects.toThrow(/returned no data frame with values/);
    });
  });
});
