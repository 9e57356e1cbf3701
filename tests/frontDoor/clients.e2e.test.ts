import { spawn } from "node:child_process";
import * as path from "node:path";
import { FrontDoorSpec, SCRAPE_KEY_ENV, apiKeyEnv } from "../../components/frontDoor/caddyConfig";
import { API_KEY_ENV, PredictionError, predict } from "../../components/serving/predict";
import { RolloutError, verifyRollout } from "../../components/serving/rollout";
import { loadSamplePredictions } from "../../components/serving/samplePredictions";
import { loadSampleRows } from "../../components/serving/tfExample";
import { keyFromApiKeysOutput, outputReaderEnv } from "../../scripts/apiKey";
import { fileBackendUrl } from "../../scripts/automation/stackHandling";
import * as checks from "../../scripts/live/checks";
import { Simulator, startSimulator } from "../../scripts/simulator/server";
import { runTraffic } from "../../scripts/traffic/generator";
import { startCaddy } from "../support/caddy";
import { PROJECT_DIR } from "../support/program";
import { ServerProcess, freePort } from "../support/serverProcess";

const MODEL = "diabetes-prediction";
const METRICS_PATH = "/monitoring/prometheus/metrics";
const KEY = "teamA-4f1e2d3c5b6a79880a1b2c3d4e5f6a7b";
const SCRAPE_KEY = "scrape-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
const expected = loadSamplePredictions().predictions;

/** Every client of the project against the real caddy (status route guarded too) in front of the simulator. */
describe("every client sends the key through the front door", () => {
  let simulator: Simulator;
  let caddy: ServerProcess;
  let door: string;

  beforeAll(async () => {
    simulator = await startSimulator({
      modelName: MODEL,
      metricsPath: METRICS_PATH,
      scenario: { name: "quiet", ratePerSecond: 0, errorRatio: 0, errorStatuses: [], latencyMs: { min: 0, max: 0 } },
    });
    const [port, metricsPort] = [await freePort(), await freePort()];
    door = `http://127.0.0.1:${port}`;
    const spec: FrontDoorSpec = {
      modelName: MODEL,
      listen: `127.0.0.1:${port}`,
      upstream: `127.0.0.1:${simulator.port}`,
      internalMetricsListen: `127.0.0.1:${metricsPort}`,
      consumers: ["team-a"],
      statusOpen: false,
      maxRequestBodyBytes: 1024 * 1024,
      metricsPath: METRICS_PATH,
      scrapeCredential: true,
      upstreamTimeoutMs: 30_000,
    };
    // Every route of the door wants a key here (the status route too), so readiness is its loopback metrics listener.
    caddy = await startCaddy(spec, { [apiKeyEnv("team-a")]: KEY, [SCRAPE_KEY_ENV]: SCRAPE_KEY }, `http://127.0.0.1:${metricsPort}/metrics`);
  }, 60_000);

  afterAll(async () => {
    await caddy?.stop();
    await simulator?.close();
  });

  it("the rollout gate passes with the key and names the refusal without it", async () => {
    await expect(verifyRollout({ servingUrl: door, modelName: MODEL, timeoutMs: 5000, sampleRow: expected[0].row, apiKey: KEY })).resolves.toEqual({
      version: "1",
      probability: expected[0].probability,
    });
    const refused = verifyRollout({ servingUrl: door, modelName: MODEL, timeoutMs: 1000, initialIntervalMs: 200, sampleRow: expected[0].row });
    await expect(refused).rejects.toThrow(RolloutError);
    await expect(refused).rejects.toThrow(/Last state: HTTP 401: missing or unknown API key/);
  });

  it("predict sends the key; without it the door's 401 explains what to send", async () => {
    expect((await predict(door, MODEL, expected[1].row, { apiKey: KEY })).probability).toBe(expected[1].probability);
    const refused = predict(door, MODEL, expected[1].row);
    await expect(refused).rejects.toThrow(PredictionError);
    await expect(refused).rejects.toThrow(/HTTP 401.*Authorization: Bearer <key>/);
  });

  it("the traffic generator sends the key on every request", async () => {
    const rows = loadSampleRows();
    let next = 0;
    const withKey = await runTraffic({ servingUrl: door, modelName: MODEL, ratePerSecond: 50, durationSeconds: 0.2, nextRow: () => rows[next++ % rows.length], apiKey: KEY });
    expect({ ok: withKey.ok, failed: withKey.failed }).toEqual({ ok: 10, failed: 0 });
    const without = await runTraffic({ servingUrl: door, modelName: MODEL, ratePerSecond: 50, durationSeconds: 0.1, nextRow: () => rows[0] });
    expect(without.errors).toEqual({ "HTTP 401": 5 });
  });

  it("the live test's checks send the key, and read TF Serving's counters with the metrics credential", async () => {
    await expect(checks.checkModelAvailable(door, MODEL, 5000, KEY)).resolves.toBe("version 1 AVAILABLE");
    await expect(checks.checkPredictions(door, MODEL, expected, undefined, KEY)).resolves.toMatch(/predictions within/);
    const before = await checks.servedRequestCounts(`${door}${METRICS_PATH}`, MODEL, SCRAPE_KEY);
    const sent = await checks.sendTraffic(door, MODEL, loadSampleRows(), { valid: 3, malformed: 2 }, KEY);
    const after = await checks.servedRequestCounts(`${door}${METRICS_PATH}`, MODEL, SCRAPE_KEY);
    expect(checks.checkServedCounts(before, after, sent)).toBe("request_count moved by 3 OK and 2 INVALID_ARGUMENT, as sent");
    await expect(checks.servedRequestCounts(`${door}${METRICS_PATH}`, MODEL)).rejects.toThrow(/HTTP 404/);
  });

  it("npm run predict takes the key from TFSERVING_API_KEY and never prints it", async () => {
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/predict.ts", "--url", door], { cwd: PROJECT_DIR, env });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.on("close", (code) => resolve({ code, output }));
      });
    // No pulumi on PATH: the stack output cannot be read, so the variable is the only source.
    const withKey = await run({ ...process.env, PATH: "/nonexistent", [API_KEY_ENV]: KEY });
    expect(withKey.code).toBe(0);
    expect(JSON.parse(withKey.output).probability).toBe(expected[0].probability);
    expect(withKey.output).not.toContain(KEY);
    const without = await run({ ...process.env, PATH: "/nonexistent", [API_KEY_ENV]: "" });
    expect(without.code).toBe(1);
    expect(without.output).toMatch(/HTTP 401/);
  }, 60_000);

  it("picks a consumer's key from the apiKeys output, the first by name without --consumer", () => {
    const output = JSON.stringify({ "team-b": "key-b", "team-a": "key-a" });
    expect(keyFromApiKeysOutput(output)).toBe("key-a");
    expect(keyFromApiKeysOutput(output, "team-b")).toBe("key-b");
    expect(() => keyFromApiKeysOutput(output, "team-c")).toThrow(/no key for consumer "team-c" \(consumers: team-a, team-b\)/);
    expect(keyFromApiKeysOutput("{}")).toBeUndefined();
  });

  it("reads the output on npm start's backend: the project-local fallback when npm start made it, the user's own otherwise", () => {
    const projectDir = "/project";
    const passphraseFile = path.join(projectDir, ".pulumi-local", "passphrase.txt");
    const probe = (env: NodeJS.ProcessEnv, files: Record<string, string>) => ({ env, projectDir, homeDir: "/home/u", readText: (file: string) => files[file] });
    expect(outputReaderEnv(probe({}, { [passphraseFile]: "pass-123\n" }))).toEqual({
      PULUMI_BACKEND_URL: fileBackendUrl(path.join(projectDir, ".pulumi-local")),
      PULUMI_CONFIG_PASSPHRASE: "pass-123",
    });
    // No fallback made yet: plain CLI, and no passphrase created by a read.
    expect(outputReaderEnv(probe({}, {}))).toEqual({});
    // A backend the user chose is used as it is.
    expect(outputReaderEnv(probe({ PULUMI_BACKEND_URL: "s3://bucket" }, { [passphraseFile]: "pass-123" }))).toEqual({});
  });
});
