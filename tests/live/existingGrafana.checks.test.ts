/**
 * The live checks against an existing Grafana (the Grafana stand-in, logging in with a service-account token
 * as a bearer token, its data source querying a real Prometheus), and the deploy-marker check that the
 * dashboard's "Deploys" query relies on.
 */
import * as fs from "node:fs";
import { parseStackConfig } from "../../components/config/stackConfig";
import { dashboardUid } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { DEPLOY_TAG, deployMarkerTags, deployMarkerText } from "../../components/grafana/deployMarker";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import * as checks from "../../scripts/live/checks";
import { GrafanaStandIn, startGrafanaStandIn } from "../support/grafanaStandIn";
import { PrometheusServer, startPrometheus } from "../support/prometheusServer";
import { tempDir, writeFile } from "../support/promtool";
import { freePort } from "../support/serverProcess";

const TOKEN = "glsa_standin_token";
const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", globalScrapeInterval: "1s" } });
const model = config.modelName;
const deploy = (version: string, time: number) => ({
  time,
  text: deployMarkerText({ modelName: model, modelVersion: version, imageRef: `tfserving-platform/${model}:0123456789ab`, stack: "dev" }),
  tags: deployMarkerTags({ modelName: model, modelVersion: version, stack: "dev" }),
});

describe("live checks against an existing Grafana (stand-in, token login)", () => {
  const dir = tempDir("existing-grafana");
  let prometheus: PrometheusServer | undefined;
  let grafana: GrafanaStandIn | undefined;
  const dashboard = { uid: dashboardUid(model), title: config.dashboardTitle };
  const token = { token: TOKEN };
  const source = { uid: PROMETHEUS_DATA_SOURCE.uid, type: PROMETHEUS_DATA_SOURCE.type };

  beforeAll(async () => {
    const port = await freePort();
    // Prometheus scraping itself is enough to answer the data source's queries.
    const text = renderPrometheusConfig(prometheusConfigInput(config, undefined, { ruleFiles: [], selfScrapeTarget: `127.0.0.1:${port}` }));
    prometheus = await startPrometheus(port, writeFile(dir, "prometheus.yml", text), dir);
    grafana = await startGrafanaStandIn({
      user: "admin",
      password: "not-used-here",
      token: TOKEN,
      prometheusUrl: prometheus.url,
      dataSourceUid: PROMETHEUS_DATA_SOURCE.uid,
      dashboard,
      // Two deploys and someone else's annotation; the earlier marker is still there.
      annotations: [deploy("3", 1_000), deploy("4", 2_000), { time: 3_000, text: "other team", tags: [DEPLOY_TAG, "other-model"] }],
    });
  }, 60_000);
  afterAll(async () => {
    await grafana?.close();
    await prometheus?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the token reaches the data source health check, the dashboard and a panel query; a wrong token gets 401", async () => {
    await expect(checks.checkDataSourceHealth(grafana!.url, token, PROMETHEUS_DATA_SOURCE.uid)).resolves.toMatch(/Successfully queried/);
    await expect(checks.checkDashboardPanels(grafana!.url, token, dashboard.uid, [])).resolves.toMatch(/has all 0 panels/);
    // The first self-scrape lands within a second or two of the start.
    const query = () => checks.checkPanelQuery(grafana!.url, token, source, { key: "self-scrape up", expr: `up{job="prometheus"}` });
    await expect(checks.eventually("a frame of the self-scrape", 15_000, query)).resolves.toMatch(/frame\(s\) with values/);
    await expect(checks.checkDataSourceHealth(grafana!.url, { token: `${TOKEN}-wrong` }, PROMETHEUS_DATA_SOURCE.uid)).rejects.toThrow(/HTTP 401/);
  }, 30_000);

  it("finds each deploy's marker by the dashboard's tags, earlier ones included, and names a version that has none", async () => {
    await expect(checks.checkDeployMarker(grafana!.url, token, [DEPLOY_TAG, model], "4")).resolves.toMatch(/Deployed diabetes-prediction version 4 /);
    await expect(checks.checkDeployMarker(grafana!.url, token, [DEPLOY_TAG, model], "3")).resolves.toMatch(/version 3 /);
    await expect(checks.checkDeployMarker(grafana!.url, token, [DEPLOY_TAG, model], "5")).rejects.toThrow(/none of 2 annotation\(s\) tagged deploy, diabetes-prediction marks version 5/);
  }, 30_000);
});
