import { spawn } from "node:child_process";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { PredictionError, predict, readPrediction } from "../components/serving/predict";
import { RolloutError, verifyRollout } from "../components/serving/rollout";
import { loadSamplePredictions } from "../components/serving/samplePredictions";
import { loadSampleRows } from "../components/serving/tfExample";
import { FakeTfServing, startFakeTfServing } from "./support/fakeTfServing";
import { PROJECT_DIR } from "./support/program";

/** Runs one of our scripts the way the command resources and `npm run` do. */
function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", script, ...args], {
      cwd: PROJECT_DIR,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sampleRow = loadSampleRows()[0];
const fast = { modelName: "diabetes-prediction", sampleRow, initialIntervalMs: 10, maxIntervalMs: 40, requestTimeoutMs: 2000 };

describe("rollout verification against a fake TF Serving on 127.0.0.1", () => {
  let server: FakeTfServing | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("passes once LOADING turns AVAILABLE and a prediction in [0, 1] comes back for the sample row", async () => {
    server = await startFakeTfServing({ states: ["LOADING", "LOADING", "AVAILABLE"] });
    const result = await verifyRollout({ ...fast, servingUrl: server.url, timeoutMs: 10_000 });
    // The fake answers the sample row with the bundled model's real probability.
    expect(result).toEqual({ version: "1763528202", probability: loadSamplePredictions().predictions[0].probability });
    expect(server.statusPolls()).toBe(3);

    // The request is the documented shape, and its b64 decodes to the sample row.
    expect(server.predictBodies).toHaveLength(1);
    const body = server.predictBodies[0] as { instances: { b64: string }[] };
    expect(Object.keys(body)).toEqual(["instances"]);
    const root = await protobuf.load(path.join(__dirname, "fixtures", "tf_example.proto"));
    const Example = root.lookupType("tensorflow.Example");
    const decoded = Example.toObject(Example.decode(Buffer.from(body.instances[0].b64, "base64")), { longs: Number }) as {
      features: { feature: Record<string, { int64List?: { value: number[] } }> };
    };
    expect(decoded.features.feature.Glucose.int64List!.value).toEqual([sampleRow.Glucose]);
  });

  it("times out, bounded, naming the last state when the model never becomes AVAILABLE", async () => {
    server = await startFakeTfServing({ states: ["LOADING"] });
    const error = await verifyRollout({ ...fast, servingUrl: server.url, timeoutMs: 300 }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(RolloutError);
    expect((error as Error).message).toMatch(/did not become AVAILABLE .* within \d+s\. Last state: version 1763528202 LOADING/);
    expect(server.predictBodies).toHaveLength(0);
  });

  it("fails quoting TF Serving's error when the prediction is refused", async () => {
    const message = "Expected serialized to be a vector, got shape: [1,1]";
    server = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 400, body: { error: message } } });
    await expect(verifyRollout({ ...fast, servingUrl: server.url, timeoutMs: 5000 })).rejects.toThrow(
      `version 1763528202 is AVAILABLE, but the test prediction at ${server.url}/v1/models/diabetes-prediction:predict failed: ` +
        `predict answered HTTP 400: ${JSON.stringify(message)}`,
    );
  });

  it("fails when the prediction is not a probability", async () => {
    server = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 200, body: { predictions: [[3.2]] } } });
    await expect(verifyRollout({ ...fast, servingUrl: server.url, timeoutMs: 5000 })).rejects.toThrow(/probability 3\.2, outside \[0, 1\]/);
  });
});

describe("the scripts around it", () => {
  let server: FakeTfServing;
  beforeAll(async () => {
    server = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 200, body: { predictions: [[0.25]] } } });
  });
  afterAll(() => server.close());

  it("verify-rollout (LocalServing's gate) prints the verified version and probability", async () => {
    const run = await runScript("scripts/verify-rollout.ts", [], { SERVING_URL: server.url, MODEL_NAME: "diabetes-prediction", TIMEOUT_SECONDS: "5" });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ modelName: "diabetes-prediction", version: "1763528202", state: "AVAILABLE", probability: 0.25 });
  });

  it("predict sends the given row and prints the probability; a bad row names the feature", async () => {
    const row = { ...sampleRow, Glucose: 99 };
    const sent = server.predictBodies.length;
    const ok = await runScript("scripts/predict.ts", ["--url", server.url, "--row", JSON.stringify(row)], {});
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ probability: 0.25, latencyMs: expect.any(Number), row });
    expect(server.predictBodies.length).toBe(sent + 1);

    const bad = await runScript("scripts/predict.ts", ["--url", server.url, "--row", '{"Glucose": 99}'], {});
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Invalid row: .*Pregnancies is missing/);
    expect(server.predictBodies.length).toBe(sent + 1);
  });
});

describe("predict client", () => {
  it("returns the probability with the HTTP status and latency", async () => {
    const server = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 200, body: { predictions: [[0.4]] } } });
    try {
      const result = await predict(`${server.url}/`, "diabetes-prediction", sampleRow);
      expect(result).toEqual({ probability: 0.4, httpStatus: 200, latencyMs: expect.any(Number) });
      expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    } finally {
      await server.close();
    }
  });

  it("keeps TF Serving's status on the error, so a caller can count failures by cause", async () => {
    const server = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 503, body: { error: "Servable not available" } } });
    try {
      const error = await predict(server.url, "diabetes-prediction", sampleRow).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PredictionError);
      expect(error).toMatchObject({ httpStatus: 503, message: expect.stringContaining('HTTP 503: "Servable not available"') });
    } finally {
      await server.close();
    }
  });

  it("gives up on a server that never answers after timeoutMs", async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const error = await predict(url, "diabetes-prediction", sampleRow, { timeoutMs: 100 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PredictionError);
      expect((error as PredictionError).httpStatus).toBeUndefined();
      expect(((error as PredictionError).cause as Error).name).toBe("TimeoutError");
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("refuses an invalid row before sending anything", async () => {
    const server = await startFakeTfServing({ states: ["AVAILABLE"] });
    try {
      await expect(predict(server.url, "diabetes-prediction", { ...sampleRow, Age: 41.5 })).rejects.toThrow(/Age is an int64 feature and must be a whole number/);
      expect(server.predictBodies).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe("readPrediction", () => {
  it.each([
    [200, '{"predictions": [[0]]}', 0],
    [200, '{"predictions": [[1]]}', 1],
  ])("accepts HTTP %i %s", (status, body, probability) => {
    expect(readPrediction(status, body)).toBe(probability);
  });

  it.each([
    [500, '{"error": "Tensor name: dense not found"}', /HTTP 500: "Tensor name: dense not found"/],
    [502, "<html>Bad Gateway</html>", /HTTP 502 with a body that is not JSON: <html>Bad Gateway/],
    [200, '{"outputs": [[0.5]]}', /expected \{"predictions": \[\[<probability>\]\]\}/],
    [200, '{"predictions": [[-0.1]]}', /outside \[0, 1\]/],
    [200, '{"predictions": [["0.5"]]}', /expected \{"predictions"/],
  ])("refuses HTTP %i %s", (status, body, message) => {
    expect(() => readPrediction(status, body)).toThrow(message);
  });
});
