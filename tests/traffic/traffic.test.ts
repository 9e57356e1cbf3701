import { spawn } from "node:child_process";
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { loadSamplePredictions } from "../../components/serving/samplePredictions";
import { INT64_FEATURES, loadSampleRows } from "../../components/serving/tfExample";
import { presetScenario } from "../../scripts/simulator/scenario";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { MAX_RATE_PER_SECOND, TrafficSummary, checkLimits, formatSummary, percentile, progressBar, runTraffic } from "../../scripts/traffic/generator";
import { PLAUSIBLE_RANGES, randomRow, rowSource } from "../../scripts/traffic/rows";
import { FakeTfServing, startFakeTfServing } from "../support/fakeTfServing";
import { PROJECT_DIR } from "../support/program";

const MODEL = "diabetes-prediction";
const METRICS_PATH = "/monitoring/prometheus/metrics";

/** The simulator with no synthetic traffic, so its counters hold exactly the generator's requests. */
function quietSimulator(errorRatio: number): Promise<Simulator> {
  return startSimulator({
    modelName: MODEL,
    metricsPath: METRICS_PATH,
    scenario: { ...presetScenario("silence"), errorRatio, errorStatuses: ["UNAVAILABLE"], latencyMs: { min: 2, max: 4 } },
  });
}

async function requestCounts(simulator: Simulator): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, status, value] of (await simulator.metrics()).matchAll(/^:tensorflow:serving:request_count\{.*status="([^"]+)"\} (\S+)$/gm)) counts[status] = Number(value);
  return counts;
}

describe("limits and formatting", () => {
  it("refuses rates and durations outside the caps, naming the flag", () => {
    expect(() => checkLimits(MAX_RATE_PER_SECOND + 1, 10)).toThrow("--rate must be above 0 and at most 50 requests/s (got 51)");
    expect(() => checkLimits(0, 10)).toThrow("--rate");
    expect(() => checkLimits(5, 601)).toThrow("--duration must be above 0 and at most 600s (got 601s)");
    expect(() => checkLimits(0.2, 2)).toThrow("--rate 0.2 for --duration 2s sends no request");
    expect(() => checkLimits(50, 600)).not.toThrow();
  });

  it("takes nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 95, 99, 100].map((p) => percentile(values, p))).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
  });

  it("draws the progress bar from answered requests", () => {
    expect(progressBar({ planned: 200, sent: 100, ok: 78, failed: 2 }, 10)).toBe("[####------]  40%  100/200 sent  78 OK  2 failed");
  });

  it("summarises errors by cause and latency of OK requests", () => {
    const summary: TrafficSummary = { planned: 10, sent: 10, ok: 8, failed: 2, errors: { "HTTP 503": 1, timeout: 1 }, latencyMs: { p50: 3, p95: 4.25, p99: 4.5 } };
    expect(formatSummary(summary)).toBe("sent 10 of 10, OK 8, failed 2\n  HTTP 503: 1\n  timeout: 1\nlatency of OK requests: p50 3.0 ms, p95 4.3 ms, p99 4.5 ms");
  });
});

describe("rows", () => {
  it("cycles through the bundled sample rows", () => {
    const sample = loadSampleRows();
    const next = rowSource("sample");
    const drawn = Array.from({ length: sample.length + 1 }, next);
    expect(drawn).toEqual([...sample, sample[0]]);
  });

  it("makes random rows inside plausible ranges, whole numbers for int64 features", () => {
    for (const row of Array.from({ length: 200 }, () => randomRow())) {
      for (const [feature, [min, max]] of Object.entries(PLAUSIBLE_RANGES)) {
        const value = row[feature as keyof typeof row];
        expect(value).toBeGreaterThanOrEqual(min);
        expect(value).toBeLessThanOrEqual(max);
        if ((INT64_FEATURES as readonly string[]).includes(feature)) expect(Number.isInteger(value)).toBe(true);
      }
    }
  });
});

describe("runTraffic against the simulator on 127.0.0.1", () => {
  let simulator: Simulator | undefined;
  let fake: FakeTfServing | undefined;
  afterEach(async () => {
    await simulator?.close();
    await fake?.close();
    simulator = fake = undefined;
  });

  it("sends rate x duration predict requests and counts OK and failures as the server saw them", async () => {
    simulator = await quietSimulator(0.25);
    const seen: number[] = [];
    const summary = await runTraffic({
      servingUrl: simulator.url,
      modelName: MODEL,
      ratePerSecond: 20,
      durationSeconds: 1,
      nextRow: rowSource("sample"),
      onProgress: (progress) => seen.push(progress.ok + progress.failed),
    });
    // The simulator fails exactly every fourth request.
    expect({ sent: summary.sent, ok: summary.ok, failed: summary.failed, errors: summary.errors }).toEqual({ sent: 20, ok: 15, failed: 5, errors: { "HTTP 503": 5 } });
    expect(await requestCounts(simulator)).toEqual({ OK: 15, UNAVAILABLE: 5 });
    const { p50, p95, p99 } = summary.latencyMs!;
    // The simulator holds each successful answer for 2-4 ms.
    expect(p50).toBeGreaterThanOrEqual(2);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(seen[seen.length - 1]).toBe(20);
  });

  it("reports the range of the probabilities answered: the bundled model's, for the sample rows", async () => {
    simulator = await quietSimulator(0);
    const summary = await runTraffic({ servingUrl: simulator.url, modelName: MODEL, ratePerSecond: 20, durationSeconds: 0.4, nextRow: rowSource("sample") });
    const probabilities = loadSamplePredictions().predictions.map(({ probability }) => probability);
    expect(summary.probability).toEqual({ min: Math.min(...probabilities), max: Math.max(...probabilities) });
    expect(formatSummary(summary)).toContain(`probability of diabetes answered: min ${Math.min(...probabilities).toFixed(4)}, max ${Math.max(...probabilities).toFixed(4)}`);
  });

  it("counts a fake TF Serving's refusal of rows it has no answer for as failures", async () => {
    fake = await startFakeTfServing({ states: ["AVAILABLE"] });
    const summary = await runTraffic({ servingUrl: fake.url, modelName: MODEL, ratePerSecond: 10, durationSeconds: 0.2, nextRow: rowSource("random") });
    expect(summary).toMatchObject({ ok: 0, failed: 2, errors: { "HTTP 500": 2 } });
    expect(summary.probability).toBeUndefined();
  });

  it("sends the rows as the tf.Examples of the bundled sample", async () => {
    fake = await startFakeTfServing({ states: ["AVAILABLE"] });
    await runTraffic({ servingUrl: fake.url, modelName: MODEL, ratePerSecond: 10, durationSeconds: 0.5, nextRow: rowSource("sample") });
    const root = await protobuf.load(path.join(PROJECT_DIR, "tests", "fixtures", "tf_example.proto"));
    const Example = root.lookupType("tensorflow.Example");
    const ages = (fake.predictBodies as { instances: { b64: string }[] }[]).map(({ instances }) => {
      const decoded = Example.toObject(Example.decode(Buffer.from(instances[0].b64, "base64")), { longs: Number }) as {
        features: { feature: Record<string, { int64List?: { value: number[] } }> };
      };
      return decoded.features.feature.Age.int64List!.value[0];
    });
    const byValue = (a: number, b: number) => a - b;
    const sample = loadSampleRows();
    // Five requests over four sample rows: the fifth starts the cycle again.
    expect(ages.sort(byValue)).toEqual(Array.from({ length: 5 }, (_, i) => sample[i % sample.length].Age).sort(byValue));
  });

  it("reports a server that cannot be reached as failures, not a crash", async () => {
    simulator = await quietSimulator(0);
    const url = simulator.url;
    await simulator.close();
    simulator = undefined;
    const summary = await runTraffic({ servingUrl: url, modelName: MODEL, ratePerSecond: 10, durationSeconds: 0.3, nextRow: rowSource("random") });
    expect(summary).toEqual({ planned: 3, sent: 3, ok: 0, failed: 3, errors: { "no connection": 3 } });
  });
});

describe("npm run traffic", () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/traffic.ts", ...args], { cwd: PROJECT_DIR, env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  let simulator: Simulator | undefined;
  afterEach(() => simulator?.close());

  it("prints a JSON summary, shows progress on stderr, and exits 1 when requests failed", async () => {
    simulator = await quietSimulator(0.5);
    const result = await run(["--url", simulator.url, "--rate", "10", "--duration", "1s", "--rows", "random", "--json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ planned: 10, sent: 10, ok: 5, failed: 5, errors: { "HTTP 503": 5 } });
    expect(result.stderr).toContain("[########################] 100%  10/10 sent  5 OK  5 failed");
    expect(result.code).toBe(1);
  }, 30_000);

  it("exits 0 with a readable summary when every request succeeded", async () => {
    simulator = await quietSimulator(0);
    const result = await run(["--url", simulator.url, "--rate", "5", "--duration", "1"]);
    // Five requests cover the four sample rows, so the range is the bundled model's over the sample.
    const probabilities = loadSamplePredictions().predictions.map(({ probability }) => probability);
    const [min, max] = [Math.min(...probabilities).toFixed(4), Math.max(...probabilities).toFixed(4)];
    expect(result.stdout).toMatch(/^sent 5 of 5, OK 5, failed 0\nlatency of OK requests: p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms\n/);
    expect(result.stdout).toMatch(new RegExp(`\nprobability of diabetes answered: min ${min}, max ${max}\n$`));
    expect(result.code).toBe(0);
  }, 30_000);

  it("refuses a rate above the cap before sending anything (exit 2)", async () => {
    const result = await run(["--url", "http://127.0.0.1:9", "--rate", "500"]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain("--rate must be above 0 and at most 50 requests/s (got 500)");
  }, 30_000);

  it("asks for --url when the pulumi CLI cannot give the stack output", async () => {
    const result = await run(["--rate", "1", "--duration", "1"], { ...process.env, PATH: "" });
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain("--url is required: the pulumi CLI is not available");
  }, 30_000);
});
