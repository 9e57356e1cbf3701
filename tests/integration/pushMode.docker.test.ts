/**
 * Push mode with real parts: a real Docker engine, the serving image rendered by the program (multi-stage
 * Dockerfile, supervisor entrypoint, agent config) built FROM the stand-in TF Serving base with the agent
 * copied from a stand-in prom/prometheus image that carries the real Prometheus 3 binary, a receiver
 * Prometheus configured exactly as the program renders it, and a second Prometheus standing in for the
 * distributed store it forwards to. Everything runs on one test network; the test reaches the containers
 * through ports published on 127.0.0.1.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { PROMETHEUS_PATHS, prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { servingQueries } from "../../components/monitoring/promql";
import { RECEIVER_PATHS, REMOTE_WRITE_PATH, bcryptHash, renderHealthcheckHttpConfig, renderWebConfig } from "../../components/monitoring/receiverConfig";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { ENTRYPOINT_ASSET, renderContextFiles, writeBuildContext } from "../../components/serving/buildContext";
import { scanModelDir } from "../../components/serving/modelDir";
import { EDGE_METRICS_PORT, GENERATED_CONSUMER, UPSTREAM_REST_PORT } from "../../components/frontDoor/config";
import { apiKeyEnv } from "../../components/frontDoor/caddyConfig";
import { frontDoorImageSpec } from "../../components/frontDoor/image";
import { buildStandinCaddy, buildStandinPrometheus, buildStandinServingBase, containerLogs, containerState, docker, publishedPort, requireDocker, uniqueSuffix } from "../support/docker";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { waitFor } from "../support/serverProcess";

const suffix = uniqueSuffix();
const NAMES = {
  network: `tfserving-push-test-${suffix}`,
  servingBase: `tfserving-platform-test/standin-serving:push-${suffix}`,
  prometheusImage: `tfserving-platform-test/standin-prometheus:${suffix}`,
  servingImage: `tfserving-platform-test/serving-push:${suffix}`,
  caddyImage: `tfserving-platform-test/standin-caddy:push-${suffix}`,
  receiver: `tfserving-push-receiver-${suffix}`,
  store: `tfserving-push-store-${suffix}`,
  replicaA: `tfserving-push-a-${suffix}`,
  replicaB: `tfserving-push-b-${suffix}`,
  wrongPassword: `tfserving-push-c-${suffix}`,
};
const PASSWORD = `receiver-${suffix}-Pw0rd`;
// dev's generated API key, as the deploy would set it.
const API_KEY = `dev-key-${suffix}-0123456789abcdef`;
// The stand-in serves its Prometheus endpoint as a busybox CGI script.
const config = parseStackConfig({
  stack: "dev",
  projectDir: "/project",
  values: { modelDir: "model", metricsMode: "push", metricsPath: "/cgi-bin/metrics", scrapeInterval: "1s", globalScrapeInterval: "1s", evaluationInterval: "1s" },
});
const JOB = config.scrapeJobName;
const queries = servingQueries(config.modelName, JOB, "push");

interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant query against a Prometheus published on 127.0.0.1, with the receiver login when given. */
async function query(port: number, expr: string, password?: string): Promise<Sample[]> {
  const headers: Record<string, string> = password ? { Authorization: `Basic ${Buffer.from(`tfserving:${password}`).toString("base64")}` } : {};
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?${new URLSearchParams({ query: expr })}`, { headers, signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
  return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}

async function sendPredicts(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/v1/models/${config.modelName}:predict`, {
      method: "POST",
      headers: { Authorization: `Bearer ${API_KEY}` },
      body: "{}",
      signal: AbortSignal.timeout(5000),
    });
    expect(response.status).toBe(200);
  }
}

function runServing(name: string, replicaId: string, password: string): void {
  docker([
    "run", "-d", "--name", name, "--network", NAMES.network, "-p", "127.0.0.1::8501",
    "-e", `METRICS_RECEIVER_PASSWORD=${password}`, "-e", `${apiKeyEnv(GENERATED_CONSUMER)}=${API_KEY}`, "-e", `RAILWAY_REPLICA_ID=${replicaId}`, "-e", "RAILWAY_REPLICA_REGION=test-region",
    NAMES.servingImage,
  ]);
}

/** The agent's own metrics inside a serving container (its web server listens on loopback only). */
function agentMetric(container: string, metric: string): number {
  const text = docker(["exec", container, "wget", "-qO-", "http://127.0.0.1:9095/metrics"]);
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

// Each step waits (bounded) for pushes and forwards that arrive in batches every few seconds.
jest.setTimeout(180_000);

describe("push mode on a real Docker engine with Prometheus 3", () => {
  let workDir: string;
  let modelDir: string;
  let receiverPort: number;
  let storePort: number;
  const servingPorts: Record<string, number> = {};
  const N = 3;
  const M = 5;

  beforeAll(async () => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-push-"));
    modelDir = makeModelDir(["1"]);
    buildStandinServingBase(workDir, NAMES.servingBase);
    buildStandinPrometheus(workDir, NAMES.prometheusImage);
    buildStandinCaddy(workDir, NAMES.caddyImage);

    // The serving image exactly as the program renders it, from local stand-ins of the two base images.
    const receiverUrl = `http://${NAMES.receiver}:9090${REMOTE_WRITE_PATH}`;
    const files = renderContextFiles(
      {
        baseImage: NAMES.servingBase,
        modelName: config.modelName,
        restPort: 8501,
        grpcPort: 8500,
        metricsPath: config.metricsPath,
        agent: {
          image: NAMES.prometheusImage,
          config: {
            serving: { jobName: JOB, metricsPath: config.metricsPath, scrapeInterval: config.scrapeInterval, scrapeTimeout: config.scrapeTimeout },
            restPort: UPSTREAM_REST_PORT,
            edgeMetricsPort: EDGE_METRICS_PORT,
            receiverUrl,
            trustReceiverCertificate: false,
            modelVersion: "1",
          },
        },
        frontDoor: { ...frontDoorImageSpec(config), image: NAMES.caddyImage },
      },
      fs.readFileSync(ENTRYPOINT_ASSET, "utf8"),
    );
    const contextDir = path.join(workDir, "serving-context");
    writeBuildContext(contextDir, files, scanModelDir(modelDir).versions);
    docker(["build", "-q", "-t", NAMES.servingImage, contextDir], 300_000);

    docker(["network", "create", NAMES.network]);

    // The distributed store's stand-in: a plain Prometheus accepting remote writes.
    const storeDir = path.join(workDir, "store");
    fs.mkdirSync(storeDir);
    fs.writeFileSync(path.join(storeDir, "prometheus.yml"), stringify({ global: { scrape_interval: "15s" } }));
    docker([
      "run", "-d", "--name", NAMES.store, "--network", NAMES.network, "-p", "127.0.0.1::9090", "-v", `${storeDir}:/etc/prometheus:ro`,
      NAMES.prometheusImage, `--config.file=${PROMETHEUS_PATHS.config}`, "--storage.tsdb.path=/prometheus", "--web.enable-remote-write-receiver",
    ]);

    // The receiver: prometheus.yml, rules, web config, password file and health-check config as the program renders them.
    const receiverDir = path.join(workDir, "receiver");
    fs.mkdirSync(receiverDir);
    const write = (containerPath: string, content: string) => fs.writeFileSync(path.join(receiverDir, path.posix.basename(containerPath)), content);
    write(
      PROMETHEUS_PATHS.config,
      renderPrometheusConfig(
        prometheusConfigInput(config, undefined, {
          receiver: { tls: false },
          remoteWrite: { url: `http://${NAMES.store}:9090${REMOTE_WRITE_PATH}`, headers: { "X-Scope-OrgID": "team-a" } },
        }),
      ),
    );
    write(PROMETHEUS_PATHS.rules, renderRules(ruleGroups(rulesInput(config))));
    write(RECEIVER_PATHS.webConfig, renderWebConfig({ passwordHash: bcryptHash(PASSWORD), tls: false }));
    write(RECEIVER_PATHS.password, PASSWORD);
    write(RECEIVER_PATHS.healthcheck, renderHealthcheckHttpConfig(false));
    docker([
      "run", "-d", "--name", NAMES.receiver, "--network", NAMES.network, "-p", "127.0.0.1::9090", "-v", `${receiverDir}:/etc/prometheus:ro`,
      NAMES.prometheusImage, `--config.file=${PROMETHEUS_PATHS.config}`, "--storage.tsdb.path=/prometheus",
      `--web.config.file=${RECEIVER_PATHS.webConfig}`, "--web.enable-remote-write-receiver",
    ]);
    receiverPort = publishedPort(NAMES.receiver, 9090);
    storePort = publishedPort(NAMES.store, 9090);

    runServing(NAMES.replicaA, "replica-a", PASSWORD);
    runServing(NAMES.replicaB, "replica-b", PASSWORD);
    for (const name of [NAMES.replicaA, NAMES.replicaB]) {
      servingPorts[name] = publishedPort(name, 8501);
      await waitFor(`${name} to answer through its front door`, 60_000, async () => {
        const response = await fetch(`http://127.0.0.1:${servingPorts[name]}/v1/models/${config.modelName}`, { signal: AbortSignal.timeout(2000) });
        return response.ok ? true : undefined;
      });
    }
  }, 600_000);

  afterAll(() => {
    for (const name of [NAMES.replicaA, NAMES.replicaB, NAMES.wrongPassword, NAMES.receiver, NAMES.store]) docker(["rm", "-f", name]);
    docker(["network", "rm", NAMES.network]);
    docker(["rmi", "-f", NAMES.servingImage, NAMES.servingBase, NAMES.prometheusImage, NAMES.caddyImage]);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    if (modelDir) removeDir(modelDir);
  }, 120_000);

  it("the receiver answers the health check promtool runs with the rendered client config, and refuses it without the login", () => {
    const check = (configFile: string) =>
      spawnSync("docker", ["exec", NAMES.receiver, "promtool", "check", "ready", "--url=http://127.0.0.1:9090", `--http.config.file=${configFile}`], { encoding: "utf8" });
    const healthy = check(RECEIVER_PATHS.healthcheck);
    expect({ status: healthy.status, output: healthy.stdout + healthy.stderr }).toEqual({ status: 0, output: expect.stringMatching(/Ready/) });
    // The web config as a client config holds no login: the same check then fails, so the one above can.
    expect(check(RECEIVER_PATHS.webConfig).status).not.toBe(0);
  });

  it("both replicas push their own series: count by (replica) of the job's up is one per replica", async () => {
    const replicas = await waitFor("both replicas' up series", 90_000, async () => {
      const samples = await query(receiverPort, `count by (replica, region) (${queries.targetUp})`, PASSWORD);
      return samples.length === 2 ? samples : undefined;
    });
    expect(replicas.map((sample) => sample.metric).sort((a, b) => a.replica.localeCompare(b.replica))).toEqual([
      { replica: "replica-a", region: "test-region" },
      { replica: "replica-b", region: "test-region" },
    ]);
    expect((await query(receiverPort, queries.targetUp, PASSWORD)).every((sample) => sample.value === 1)).toBe(true);
  });

  it(`${N} requests to one replica and ${M} to the other add up to ${N + M} in the model's total`, async () => {
    await sendPredicts(servingPorts[NAMES.replicaA], N);
    await sendPredicts(servingPorts[NAMES.replicaB], M);
    const total = await waitFor(`the total to reach ${N + M}`, 60_000, async () => {
      const [sample] = await query(receiverPort, queries.totalRequests, PASSWORD);
      return sample?.value === N + M ? sample.value : undefined;
    });
    expect(total).toBe(N + M);
    const perReplica = await query(receiverPort, `sum by (replica) (:tensorflow:serving:request_count)`, PASSWORD);
    expect(Object.fromEntries(perReplica.map((sample) => [sample.metric.replica, sample.value]))).toEqual({ "replica-a": N, "replica-b": M });
    // The increase over the last minutes counts every request too (it starts from the first pushed 0).
    const [increase] = await query(receiverPort, `sum(increase(:tensorflow:serving:request_count{model_name="${config.modelName}"}[10m]))`, PASSWORD);
    expect(increase.value).toBeGreaterThanOrEqual(N + M);
    // Extrapolation may add a little; a series counted twice would double it.
    expect(increase.value).toBeLessThan((N + M) * 1.5);
  });

  it("every dashboard query answers with data, the per-replica panels with one series per replica", async () => {
    const dashboard = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE))) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
    expect(targets.length).toBeGreaterThan(10);
    for (const { title, expr } of targets) {
      const samples = await waitFor(`"${title}" to answer`, 30_000, async () => {
        const result = await query(receiverPort, expr, PASSWORD);
        return result.length > 0 ? result : undefined;
      });
      expect({ title, expr, answered: samples.length > 0 }).toEqual({ title, expr, answered: true });
    }
    const byReplica = await query(receiverPort, queries.requestRateByReplica("1m"), PASSWORD);
    expect(byReplica.map((sample) => sample.metric.replica).sort()).toEqual(["replica-a", "replica-b"]);
    // Both replicas serve version 1: one line on the by-version panel, the sum of both.
    const byVersion = await query(receiverPort, queries.requestRateByVersion("1m"), PASSWORD);
    expect(byVersion.map((sample) => sample.metric)).toEqual([{ model_version: "1" }]);
  });

  it("forwarding lands the same series, with their labels plus the receiver's external label, in the store", async () => {
    const stored = await waitFor("the store to hold both replicas' counters", 60_000, async () => {
      const samples = await query(storePort, `:tensorflow:serving:request_count`);
      return samples.length === 2 && samples.reduce((sum, sample) => sum + sample.value, 0) === N + M ? samples : undefined;
    });
    const received = await query(receiverPort, `:tensorflow:serving:request_count`, PASSWORD);
    const key = (sample: Sample) => sample.metric.replica;
    const expected = received
      .map((sample) => ({ metric: { ...sample.metric, monitor: config.prometheusMonitorLabel }, value: sample.value }))
      .sort((a, b) => key(a).localeCompare(key(b)));
    expect(stored.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected);
    expect(stored[0].metric).toMatchObject({ job: JOB, instance: `127.0.0.1:${UPSTREAM_REST_PORT}`, region: "test-region", model_name: config.modelName, status: "OK" });
  });

  it("refuses a push or a query without the password (401), and an agent with a wrong password reports failed samples", async () => {
    const write = await fetch(`http://127.0.0.1:${receiverPort}${REMOTE_WRITE_PATH}`, {
      method: "POST",
      headers: { Authorization: `Basic ${Buffer.from("tfserving:wrong").toString("base64")}`, "Content-Type": "application/x-protobuf" },
      body: "",
      signal: AbortSignal.timeout(5000),
    });
    expect(write.status).toBe(401);
    const anonymous = await fetch(`http://127.0.0.1:${receiverPort}/api/v1/query?query=up`, { signal: AbortSignal.timeout(5000) });
    expect(anonymous.status).toBe(401);

    runServing(NAMES.wrongPassword, "replica-c", "not-the-password");
    const failed = await waitFor("the agent to count failed samples", 90_000, async () => {
      const value = agentMetric(NAMES.wrongPassword, "prometheus_remote_storage_samples_failed_total");
      return value > 0 ? value : undefined;
    });
    expect(failed).toBeGreaterThan(0);
    expect(await query(receiverPort, `up{replica="replica-c"}`, PASSWORD)).toEqual([]);
  });

  it("docker stop: SIGTERM reaches both processes and the container exits 0 within the grace period", () => {
    docker(["stop", "-t", "10", NAMES.replicaA], 60_000);
    const state = containerState(NAMES.replicaA);
    // 137 would mean Docker had to SIGKILL after the grace period; 0 is the supervisor's clean stop after both exited.
    expect(state).toEqual({ running: false, exitCode: 0 });
    expect(containerLogs(NAMES.replicaA)).toContain("got SIGTERM");
  });

  it("when the model server exits, the agent is stopped and the container exits non-zero, so the platform restarts it", async () => {
    docker(["exec", NAMES.replicaB, "sh", "-c", "kill -TERM $(cat /tmp/tfserving.pid)"]);
    const state = await waitFor("the container to exit", 30_000, async () => {
      const current = containerState(NAMES.replicaB);
      return current.running ? undefined : current;
    });
    // The stand-in exits 0 on SIGTERM: even a clean exit of one process is a failure of the container.
    expect(state.exitCode).not.toBe(0);
    const logs = containerLogs(NAMES.replicaB);
    expect(logs).toMatch(/tfserving-entrypoint: a process exited with status 0; stopping the other/);
  });

  it("when the agent exits, the model server is stopped and the container exits non-zero too", async () => {
    expect(containerState(NAMES.wrongPassword).running).toBe(true);
    docker(["exec", NAMES.wrongPassword, "sh", "-c", "kill -TERM $(pidof prometheus)"]);
    const state = await waitFor("the container to exit", 30_000, async () => {
      const current = containerState(NAMES.wrongPassword);
      return current.running ? undefined : current;
    });
    expect(state.exitCode).not.toBe(0);
    expect(containerLogs(NAMES.wrongPassword)).toContain("got SIGTERM");
  });
});

