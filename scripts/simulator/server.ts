import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import { knownProbability, probabilitiesByExample } from "../../components/serving/samplePredictions";
import { CONTENT_TYPE, ServerOptions, TfServingMetrics } from "./exposition";
import { OutcomeSource, Scenario, checkScenario } from "./scenario";

/** TF Serving's REST mapping of error codes to HTTP statuses. */
export const HTTP_STATUS: Record<string, number> = {
  OK: 200,
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export interface SimulatorOptions extends ServerOptions {
  modelName: string;
  metricsPath: string;
  scenario: Scenario;
  /** 0 picks a free port. */
  port?: number;
  /** PEM key and certificate: serve https instead of http. */
  tls?: { key: string; cert: string };
  /** How often synthetic requests are counted; short, so every scrape sees the set rate. */
  tickMs?: number;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  port: number;
  scenario(): Scenario;
  setScenario(scenario: Scenario): void;
  /** The exposition as a scrape would see it. */
  metrics(): Promise<string>;
  /** A load of another version fails (TF Serving keeps serving the loaded one). */
  failLoad(version: string): void;
  close(): Promise<void>;
}

/**
 * A stand-in for TF Serving on 127.0.0.1: its metrics exposition, driven by a scenario in real time,
 * plus the model status and predict REST calls, so clients can be tested against it. The sample rows
 * get the bundled demo model's real probabilities (assets/diabetes-sample-predictions.json).
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  checkScenario(options.scenario);
  let scenario = options.scenario;
  const metrics = new TfServingMetrics(options.modelName, { version: options.version, batching: options.batching, warmup: options.warmup });
  const outcomes = new OutcomeSource();
  const sampleProbabilities = probabilitiesByExample();
  const modelPath = `/v1/models/${options.modelName}`;
  const predictPath = new RegExp(`^${escapeRegExp(modelPath)}(/versions/\\d+)?:predict$`);

  // Real time, not tick counts: a late timer still yields rate x elapsed requests.
  let last = performance.now();
  let carry = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    carry += (scenario.ratePerSecond * (now - last)) / 1000;
    last = now;
    for (; carry >= 1; carry -= 1) metrics.record({ ...outcomes.next(scenario), api: "predict" });
    metrics.runBatch();
  }, options.tickMs ?? 100);

  const handler: http.RequestListener = (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "application/json") => {
      response.writeHead(status, { "Content-Type": type });
      response.end(body);
    };
    if (request.method === "GET" && path === options.metricsPath) {
      send(200, metrics.exposition(), CONTENT_TYPE);
      return;
    }
    if (request.method === "GET" && path === modelPath) {
      metrics.record({ status: "OK", latencyMs: 0.1, api: "" });
      const status = { version: options.version ?? "1", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } };
      send(200, JSON.stringify({ model_version_status: [status] }));
      return;
    }
    if (request.method === "POST" && predictPath.test(path)) {
      readBody(request).then((body) => {
        const instances = parseInstances(body);
        const outcome = instances ? outcomes.next(scenario) : { status: "INVALID_ARGUMENT", latencyMs: 0 };
        setTimeout(() => {
          metrics.record({ ...outcome, api: "predict" });
          if (outcome.status !== "OK") send(HTTP_STATUS[outcome.status] ?? 500, JSON.stringify({ error: `simulated ${outcome.status}` }));
          else send(200, JSON.stringify({ predictions: instances!.map((instance) => [knownProbability(sampleProbabilities, instance) ?? pseudoProbability(instance)]) }));
        }, outcome.latencyMs);
      }, () => send(400, JSON.stringify({ error: "could not read the request body" })));
      return;
    }
    send(404, JSON.stringify({ error: `Not found: ${request.method} ${path}` }));
  };

  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
  } catch (error) {
    clearInterval(ticker);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    scenario: () => scenario,
    setScenario(next) {
      checkScenario(next);
      scenario = next;
    },
    metrics: async () => metrics.exposition(),
    failLoad: (version) => metrics.recordFailedLoad(version),
    close() {
      clearInterval(ticker);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const MAX_BODY_BYTES = 1 << 20;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy(new Error("body too large"));
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** The `instances` of a row-format predict body; undefined when the body is not one, as TF Serving answers 400. */
function parseInstances(body: string): unknown[] | undefined {
  try {
    const parsed = JSON.parse(body) as { instances?: unknown };
    return Array.isArray(parsed.instances) && parsed.instances.length > 0 ? parsed.instances : undefined;
  } catch {
    return undefined;
  }
}

/** For rows other than the samples (no model runs here): a stable pseudo-probability, the same answer for the same row. */
function pseudoProbability(instance: unknown): number {
  return createHash("sha256").update(JSON.stringify(instance)).digest().readUInt32BE(0) / 2 ** 32;
}
