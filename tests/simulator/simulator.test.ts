import { ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { parseStackConfig } from "../../components/config/stackConfig";
import { loadSamplePredictions } from "../../components/serving/samplePredictions";
import { encodeDiabetesExample } from "../../components/serving/tfExample";
import { LATENCY_BOUNDS_US, TfServingMetrics, bucketIndex, formatDouble } from "../../scripts/simulator/exposition";
import { OutcomeSource, presetScenario } from "../../scripts/simulator/scenario";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { PROJECT_DIR } from "../support/program";
import { waitFor } from "../support/serverProcess";

// Copied from shared/TFSERVING.md: the bounds exactly as TF Serving prints them.
const PRINTED_BOUNDS =
  "10 18 32.4 58.32 104.976 188.957 340.122 612.22 1102 1983.59 3570.47 6426.84 11568.3 20823 37481.3 " +
  "67466.4 121440 218591 393464 708235 1.27482e+06 2.29468e+06 4.13043e+06 7.43477e+06 1.33826e+07 " +
  "2.40887e+07 4.33596e+07 7.80473e+07 1.40485e+08 2.52873e+08 4.55172e+08 8.19309e+08 1.47476e+09 +Inf";
const MODEL = "diabetes-prediction";
const METRICS_PATH = "/monitoring/prometheus/metrics";

/** `name{labels}` -> value, for every sample line. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\S+\{.*\}) (\S+)$/.exec(line);
    if (match) result.set(match[1], Number(match[2]));
  }
  return result;
}

const count = (status: string) => `:tensorflow:serving:request_count{model_name="${MODEL}",status="${status}"}`;
const latencyCount = (api: string) => `:tensorflow:serving:request_latency_count{model_name="${MODEL}",API="${api}",entrypoint="REST"}`;

describe("exposition", () => {
  it("prints the 33 latency bounds exactly as TF Serving does, le last, cumulative", async () => {
    expect(LATENCY_BOUNDS_US).toHaveLength(33);
    const metrics = new TfServingMetrics(MODEL);
    metrics.record({ status: "OK", latencyMs: 50, api: "predict" });
    const lines = (await metrics.exposition()).split("\n").filter((line) => line.startsWith(":tensorflow:serving:request_latency_bucket"));
    const bounds = lines.map((line) => /,le="([^"]+)"\} \d+$/.exec(line)?.[1]);
    expect(bounds.join(" ")).toBe(PRINTED_BOUNDS);
    // 50 ms = 50000 us lies in (37481.3, 67466.4].
    const values = lines.map((line) => Number(line.split(" ").pop()));
    expect(values.indexOf(1)).toBe(PRINTED_BOUNDS.split(" ").indexOf("67466.4"));
    expect(values.slice(values.indexOf(1)).every((value) => value === 1)).toBe(true);
  });

  it("formats doubles like absl::StrCat (C's %.6g)", () => {
    expect([10, 188.9568, 708235.2, 999999.7, 1274823, 1.474756e9, 0.0001234567, 0].map(formatDouble)).toEqual([
      "10", "188.957", "708235", "1e+06", "1.27482e+06", "1.47476e+09", "0.000123457", "0",
    ]);
  });

  it("counts a value equal to a bound in the NEXT bucket, as TensorFlow's histogram does", async () => {
    expect(bucketIndex(LATENCY_BOUNDS_US, 9.99)).toBe(0);
    expect(bucketIndex(LATENCY_BOUNDS_US, 10)).toBe(1);
    expect(bucketIndex(LATENCY_BOUNDS_US, 1.47476e9)).toBe(LATENCY_BOUNDS_US.length);
    const metrics = new TfServingMetrics(MODEL);
    metrics.record({ status: "OK", latencyMs: 0.018, api: "" }); // 18 us, exactly the second bound
    const values = samples(await metrics.exposition());
    const bucket = (le: string) => values.get(`:tensorflow:serving:request_latency_bucket{model_name="${MODEL}",API="",entrypoint="REST",le="${le}"}`);
    expect([bucket("10"), bucket("18"), bucket("32.4"), bucket("+Inf")]).toEqual([0, 0, 1, 1]);
  });

  it("prints _sum with 6 significant digits, as TF Serving does", async () => {
    const metrics = new TfServingMetrics(MODEL);
    for (const latencyMs of [1000.1234, 234.5678]) metrics.record({ status: "OK", latencyMs, api: "predict" });
    const sumLine = (await metrics.exposition()).split("\n").find((line) => line.startsWith(":tensorflow:serving:request_latency_sum"));
    expect(sumLine).toBe(`:tensorflow:serving:request_latency_sum{model_name="${MODEL}",API="predict",entrypoint="REST"} 1.23469e+06`);
  });

  it("has # TYPE lines for every registered family even before any request, sorted by internal name, and no # HELP lines", async () => {
    const text = await new TfServingMetrics(MODEL).exposition();
    // The start-up load of version 1 is the only point yet.
    expect(text.split("\n").filter(Boolean)).toEqual([
      "# TYPE :tensorflow:cc:saved_model:load_attempt_count counter",
      `:tensorflow:cc:saved_model:load_attempt_count{model_path="/models/${MODEL}/1",status="success"} 1`,
      "# TYPE :tensorflow:cc:saved_model:load_latency counter",
      `:tensorflow:cc:saved_model:load_latency{model_path="/models/${MODEL}/1"} 180000`,
      "# TYPE :tensorflow:core:graph_run_time_usecs counter",
      "# TYPE :tensorflow:core:graph_run_time_usecs_histogram histogram",
      "# TYPE :tensorflow:core:graph_runs counter",
      "# TYPE :tensorflow:serving:batching_session:queuing_latency histogram",
      "# TYPE :tensorflow:serving:model_warmup_latency histogram",
      "# TYPE :tensorflow:serving:request_count counter",
      "# TYPE :tensorflow:serving:request_latency histogram",
      "# TYPE :tensorflow:serving:runtime_latency histogram",
    ]);
  });

  it("records latency only for successful requests, in microseconds", async () => {
    const metrics = new TfServingMetrics(MODEL);
    metrics.record({ status: "OK", latencyMs: 40, api: "predict" });
    metrics.record({ status: "UNAVAILABLE", latencyMs: 900, api: "predict" });
    const values = samples(await metrics.exposition());
    expect(values.get(count("OK"))).toBe(1);
    expect(values.get(count("UNAVAILABLE"))).toBe(1);
    expect(values.get(latencyCount("predict"))).toBe(1);
    expect(values.get(`:tensorflow:serving:request_latency_sum{model_name="${MODEL}",API="predict",entrypoint="REST"}`)).toBe(40000);
    expect(values.get(`:tensorflow:serving:runtime_latency_count{model_name="${MODEL}",API="Predict",runtime="TF1"}`)).toBe(1);
  });
});

describe("outcomes", () => {
  it("fails exactly the set share of requests, cycling through the error codes", () => {
    const source = new OutcomeSource();
    const scenario = presetScenario("errors");
    const outcomes = Array.from({ length: 100 }, () => source.next(scenario));
    const byStatus = (status: string) => outcomes.filter((outcome) => outcome.status === status).length;
    expect([byStatus("OK"), byStatus("INVALID_ARGUMENT"), byStatus("UNAVAILABLE")]).toEqual([75, 13, 12]);
    for (const { latencyMs } of outcomes.filter((outcome) => outcome.status === "OK")) {
      expect(latencyMs).toBeGreaterThanOrEqual(scenario.latencyMs.min);
      expect(latencyMs).toBeLessThanOrEqual(scenario.latencyMs.max);
    }
  });

  it("spreads latencies over the whole range (mean within 5% of the middle over 2000 draws)", () => {
    const source = new OutcomeSource();
    const scenario = { ...presetScenario("steady"), errorRatio: 0 };
    const latencies = Array.from({ length: 2000 }, () => source.next(scenario).latencyMs);
    const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length;
    expect(Math.abs(mean - 40)).toBeLessThan(2);
    expect(Math.min(...latencies)).toBeLessThan(22);
    expect(Math.max(...latencies)).toBeGreaterThan(58);
  });

  it("rejects impossible scenarios", async () => {
    await expect(startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: { ...presetScenario("steady"), errorRatio: 2 } })).rejects.toThrow(
      "error ratio must be 0..1",
    );
  });
});

describe("simulator server", () => {
  let simulator: Simulator;
  afterEach(async () => {
    await simulator?.close();
  });

  const get = (path: string) => fetch(`${simulator.url}${path}`);
  const predict = (body: unknown) =>
    fetch(`${simulator.url}/v1/models/${MODEL}:predict`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });

  it("serves the exposition as text/plain at the metrics path, and nothing elsewhere", async () => {
    simulator = await startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: presetScenario("silence") });
    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await get(METRICS_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain");
    expect(await response.text()).toContain("# TYPE :tensorflow:serving:request_count counter");
    expect((await get("/metrics")).status).toBe(404);
  });

  it("answers model status and predict like TF Serving's REST API and counts them", async () => {
    simulator = await startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: { ...presetScenario("silence"), errorRatio: 0, latencyMs: { min: 1, max: 2 } } });
    const status = (await (await get(`/v1/models/${MODEL}`)).json()) as { model_version_status: unknown[] };
    expect(status.model_version_status[0]).toMatchObject({ state: "AVAILABLE", status: { error_code: "OK" } });

    const row = { b64: "CgA=" };
    const first = await predict({ instances: [row, { b64: "CgB=" }] });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { predictions: number[][] };
    expect(body.predictions).toHaveLength(2);
    for (const [p] of body.predictions) expect(p).toBeGreaterThanOrEqual(0);
    const again = (await (await predict({ instances: [row] })).json()) as { predictions: number[][] };
    expect(again.predictions[0][0]).toBe(body.predictions[0][0]);

    const bad = await predict({ rows: [] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toHaveProperty("error");

    const values = samples(await simulator.metrics());
    expect(values.get(count("OK"))).toBe(3);
    expect(values.get(count("INVALID_ARGUMENT"))).toBe(1);
    expect(values.get(latencyCount("predict"))).toBe(2);
    expect(values.get(latencyCount(""))).toBe(1);
  });

  it("answers the sample rows with the bundled model's real probabilities", async () => {
    simulator = await startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: { ...presetScenario("silence"), errorRatio: 0, latencyMs: { min: 0, max: 1 } } });
    const { predictions } = loadSamplePredictions();
    const response = await predict({ instances: predictions.map(({ row }) => ({ b64: encodeDiabetesExample(row).toString("base64") })) });
    expect(((await response.json()) as { predictions: number[][] }).predictions).toEqual(predictions.map(({ probability }) => [probability]));
  });

  it("npm run predict against it prints the real probability of the first sample row", async () => {
    simulator = await startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: { ...presetScenario("silence"), errorRatio: 0, latencyMs: { min: 0, max: 1 } } });
    const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/predict.ts", "--url", simulator.url], { cwd: PROJECT_DIR });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    const first = loadSamplePredictions().predictions[0];
    expect(JSON.parse(stdout)).toEqual({ probability: first.probability, latencyMs: expect.any(Number), row: first.row });
  }, 30_000);

  it("fails predict calls per the scenario with TF Serving's HTTP statuses", async () => {
    simulator = await startSimulator({
      modelName: MODEL,
      metricsPath: METRICS_PATH,
      scenario: { ...presetScenario("silence"), errorRatio: 0.5, errorStatuses: ["UNAVAILABLE", "RESOURCE_EXHAUSTED"], latencyMs: { min: 0, max: 1 } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await predict({ instances: [{ x: i }] })).status);
    expect(statuses).toEqual([200, 503, 200, 429]);
  });

  it("generates synthetic requests while steady and stops them on silence", async () => {
    simulator = await startSimulator({ modelName: MODEL, metricsPath: METRICS_PATH, scenario: presetScenario("silence"), tickMs: 20 });
    const total = async () => [...samples(await simulator.metrics())].filter(([name]) => name.startsWith(":tensorflow:serving:request_count")).reduce((sum, [, value]) => sum + value, 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await total()).toBe(0);

    simulator.setScenario({ ...presetScenario("steady"), ratePerSecond: 200 });
    let seen = 0;
    for (let attempt = 0; attempt < 100 && seen < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await total();
    }
    expect(seen).toBeGreaterThanOrEqual(20);

    simulator.setScenario(presetScenario("silence"));
    const stopped = await total();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await total()).toBe(stopped);
  });
});

describe("npm run simulate", () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
  });

  it("serves the stack's default metrics path on 127.0.0.1 and switches scenario from stdin", async () => {
    child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/simulate.ts", "--port", "0", "--rate", "5"], { cwd: PROJECT_DIR });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await waitFor("the simulator's address", 20_000, async () => /on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stderr)?.[1], 100);
    expect(stderr).toContain("scenario steady: 5 req/s, 2% errors (INVALID_ARGUMENT), latency 20-60 ms");

    const { metricsPath } = parseStackConfig({ stack: "dev", projectDir: PROJECT_DIR, values: { modelDir: "model" } });
    const response = await fetch(`${url}${metricsPath}`);
    expect(response.headers.get("content-type")).toBe("text/plain");
    expect(await response.text()).toContain("# TYPE :tensorflow:serving:runtime_latency histogram");

    child.stdin.write("spike\n");
    await waitFor("the switch to spike", 10_000, async () => (stderr.includes("scenario spike: 50 req/s") ? true : undefined), 100);
    child.stdin.write("loud\n");
    await waitFor("the refusal of an unknown scenario", 10_000, async () => (stderr.includes(`unknown scenario "loud"`) ? true : undefined), 100);
  }, 30_000);
});
