import { FrontDoorSpec, EDGE_METRICS_PATH, SCRAPE_KEY_ENV, apiKeyEnv } from "../../components/frontDoor/caddyConfig";
import { predictRequestBody } from "../../components/serving/predict";
import { loadSamplePredictions } from "../../components/serving/samplePredictions";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { parseStackConfig } from "../../components/config/stackConfig";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { edgeQueries } from "../../components/monitoring/promql";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCaddy } from "../support/caddy";
import { startPrometheus } from "../support/prometheusServer";
import { ServerProcess, freePort, waitFor } from "../support/serverProcess";

const MODEL = "diabetes-prediction";
const METRICS_PATH = "/monitoring/prometheus/metrics";
const KEYS = { "team-a": "teamA-7c1e9b3d5f2a8c4e6b0d1f3a5c7e9b2d", "team-b": "teamB-2e4c6a8f0b1d3e5c7a9f2b4d6e8a0c1f" };
const SCRAPE_KEY = "scrape-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const MAX_BODY = 64 * 1024;

const sample = loadSamplePredictions().predictions[0];
const predictBody = predictRequestBody(sample.row);

describe("the real caddy in front of the simulator, on 127.0.0.1", () => {
  let simulator: Simulator;
  let caddy: ServerProcess;
  let door: string;
  let internalMetrics: string;

  beforeAll(async () => {
    // No synthetic traffic and no simulated failures: every answer here is the one the request asked for.
    simulator = await startSimulator({
      modelName: MODEL,
      metricsPath: METRICS_PATH,
      scenario: { name: "quiet", ratePerSecond: 0, errorRatio: 0, errorStatuses: [], latencyMs: { min: 0, max: 0 } },
    });
    const [doorPort, metricsPort] = [await freePort(), await freePort()];
    door = `http://127.0.0.1:${doorPort}`;
    internalMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    const spec: FrontDoorSpec = {
      modelName: MODEL,
      listen: "127.0.0.1:{env.PORT}",
      upstream: `127.0.0.1:${simulator.port}`,
      internalMetricsListen: `127.0.0.1:${metricsPort}`,
      consumers: Object.keys(KEYS),
      statusOpen: true,
      maxRequestBodyBytes: MAX_BODY,
      metricsPath: METRICS_PATH,
      scrapeCredential: true,
      upstreamTimeoutMs: 30_000,
    };
    const env = {
      PORT: String(doorPort),
      [SCRAPE_KEY_ENV]: SCRAPE_KEY,
      ...Object.fromEntries(Object.entries(KEYS).map(([consumer, key]) => [apiKeyEnv(consumer), key])),
    };
    caddy = await startCaddy(spec, env, `${door}/v1/models/${MODEL}`);
  });

  afterAll(async () => {
    await caddy?.stop();
    await simulator?.close();
  });

  const send = async (path: string, init: { method?: string; key?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${door}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { ...(init.key === undefined ? {} : { Authorization: `Bearer ${init.key}` }), ...(init.body === undefined ? {} : { "Content-Type": "application/json" }), ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text(), headers: response.headers };
  };
  const predictPath = `/v1/models/${MODEL}:predict`;

  it("answers predict with a consumer's key, with the model's real answer passed through", async () => {
    for (const key of Object.values(KEYS)) {
      const answer = await send(predictPath, { key, body: predictBody });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ predictions: [[sample.probability]] });
    }
  });

  it("refuses predict without a key, with a wrong key, a key of another scheme, or the scrape credential: 401 with a JSON error", async () => {
    const refusals = [
      await send(predictPath, { body: predictBody }),
      await send(predictPath, { key: "teamA-7c1e9b3d5f2a8c4e6b0d1f3a5c7e9b2e", body: predictBody }),
      await send(predictPath, { key: KEYS["team-a"].slice(0, -1), body: predictBody }),
      await send(predictPath, { headers: { Authorization: `Basic ${KEYS["team-a"]}` }, body: predictBody }),
      await send(predictPath, { key: SCRAPE_KEY, body: predictBody }),
      await send(`/v1/models/${MODEL}/metadata`),
    ];
    for (const answer of refusals) {
      expect(answer.status).toBe(401);
      expect(answer.type).toBe("application/json");
      expect(JSON.parse(answer.text).error).toMatch(/Authorization: Bearer <key>/);
      expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    }
  });

  it("keeps the model status route open for health checks", async () => {
    const answer = await send(`/v1/models/${MODEL}`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).model_version_status[0].state).toBe("AVAILABLE");
  });

  it("answers 404 for other models and other routes, even with a key, and for the metrics paths without the scrape credential", async () => {
    const key = KEYS["team-a"];
    for (const [path, init] of [
      ["/v1/models/other-model:predict", { key, body: predictBody }],
      ["/v1/models/other-model", {}],
      [`/v1/models/${MODEL}-2:predict`, { key, body: predictBody }],
      [METRICS_PATH, {}],
      [METRICS_PATH, { key }],
      [EDGE_METRICS_PATH, { key }],
      ["/", {}],
      ["/metrics", {}],
    ] as const) {
      const answer = await send(path, init);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(JSON.parse(answer.text)).toEqual({ error: "not found" });
    }
  });

  it("refuses a body above the limit with 413; at the limit it passes", async () => {
    const oversized = JSON.stringify({ instances: [{ b64: "A".repeat(MAX_BODY) }] });
    expect((await send(predictPath, { key: KEYS["team-a"], body: oversized })).status).toBe(413);
    const padded = JSON.stringify({ ...JSON.parse(predictBody), pad: " ".repeat(MAX_BODY - predictBody.length - 10) });
    expect(Buffer.byteLength(padded)).toBeLessThanOrEqual(MAX_BODY);
    expect((await send(predictPath, { key: KEYS["team-a"], body: padded })).status).toBe(200);
  });

  it("lets malformed JSON through to the server's own 400", async () => {
    const answer = await send(predictPath, { key: KEYS["team-b"], body: '{"instances": [' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).error).toMatch(/INVALID_ARGUMENT/);
  });

  it("keeps serving after 200 bad requests of every kind", async () => {
    const key = KEYS["team-a"];
    const kinds = [
      () => send(predictPath, { body: predictBody }),
      () => send(predictPath, { key: "x".repeat(40), body: predictBody }),
      () => send(predictPath, { key, body: "not json" }),
      () => send(predictPath, { key, body: "A".repeat(MAX_BODY + 1) }),
      () => send("/v1/models/other:predict", { key, body: predictBody }),
      () => send(METRICS_PATH),
      () => send(predictPath, { key, method: "DELETE" }),
      () => send(`/v1/models/${MODEL}/versions/abc:predict`, { key, body: "{}" }),
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) statuses.add((await kinds[i % kinds.length]()).status);
    expect([...statuses].sort()).toEqual([400, 401, 404, 413]);
    const answer = await send(predictPath, { key, body: predictBody });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ predictions: [[sample.probability]] });
  });

  it("a real Prometheus, configured as the program renders it, scrapes both through the door into one job; the edge query sees the refusals", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "front-door-prometheus-"));
    const credentialsFile = path.join(dir, "front-door.credential");
    fs.writeFileSync(credentialsFile, SCRAPE_KEY);
    const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { scrapeInterval: "1s", globalScrapeInterval: "1s" } });
    const port = await freePort();
    const configFile = path.join(dir, "prometheus.yml");
    const input = prometheusConfigInput(config, { target: new URL(door).host, scheme: "http" }, {
      selfScrapeTarget: `127.0.0.1:${port}`,
      ruleFiles: [],
      frontDoor: { credentialsFile, edgeMetricsPath: EDGE_METRICS_PATH },
    });
    fs.writeFileSync(configFile, renderPrometheusConfig(input));
    const prometheus = await startPrometheus(port, configFile, dir);
    try {
      const job = config.scrapeJobName;
      const up = await waitFor("both targets of the job up", 30_000, async () => {
        const samples = await prometheus.query(`up{job="${job}"} == 1`);
        return samples.length === 2 ? samples : undefined;
      });
      expect(up.map((sample) => sample.metric.component ?? "tfserving").sort()).toEqual(["edge", "tfserving"]);
      await waitFor("TF Serving's and Caddy's series in the job", 30_000, async () => {
        const [tfServing, edge] = [await prometheus.query(`:tensorflow:serving:request_count{job="${job}"}`), await prometheus.query(`caddy_http_requests_total{job="${job}"}`)];
        return tfServing.length > 0 && edge.length > 0 ? true : undefined;
      });
      const codes = await waitFor("the edge's answers by code", 30_000, async () => {
        const samples = await prometheus.query(edgeQueries(job).responseRateByCode("5m"));
        return samples.length >= 4 ? samples.map((sample) => sample.metric.code).sort() : undefined;
      });
      expect(codes).toEqual(expect.arrayContaining(["200", "401", "404", "413"]));
    } finally {
      await prometheus.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves TF Serving's metrics and its own to the scrape credential, and its own on the loopback metrics port", async () => {
    const tfServing = await send(METRICS_PATH, { key: SCRAPE_KEY });
    expect(tfServing.status).toBe(200);
    expect(tfServing.text).toContain(":tensorflow:serving:request_count");
    const edge = await send(EDGE_METRICS_PATH, { key: SCRAPE_KEY });
    expect(edge.status).toBe(200);
    for (const family of ["caddy_http_requests_total", "caddy_http_request_duration_seconds_bucket", "caddy_http_requests_in_flight"]) {
      expect(edge.text).toContain(family);
    }
    // The edge counts what TF Serving never sees: refusals by code.
    for (const code of ["401", "404", "413"]) expect(edge.text).toMatch(new RegExp(`caddy_http_request_duration_seconds_count\\{[^}]*code="${code}"[^}]*server="door"`));
    const loopback = await fetch(internalMetrics, { signal: AbortSignal.timeout(5000) });
    expect(loopback.status).toBe(200);
    expect(await loopback.text()).toContain("caddy_http_requests_total");
  });
});
