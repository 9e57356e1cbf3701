import { AddressInfo } from "node:net";
import { startJsonServer } from "./jsonServer";
import { knownProbability, probabilitiesByExample } from "../../components/serving/samplePredictions";

export interface FakeTfServingOptions {
  modelName?: string;
  /** Model state per status poll; the last one repeats. */
  states: string[];
  /** Fixed answer to `:predict`; by default the bundled model's real probabilities for the sample rows. */
  predict?: { status: number; body: unknown };
}

export interface FakeTfServing {
  url: string;
  statusPolls: () => number;
  /** Parsed JSON bodies of the predict requests received. */
  predictBodies: unknown[];
  close: () => Promise<void>;
}

/** A TF Serving REST stand-in on 127.0.0.1 with the status and predict shapes of TFSERVING.md. */
export async function startFakeTfServing(options: FakeTfServingOptions): Promise<FakeTfServing> {
  const model = options.modelName ?? "diabetes-prediction";
  const sampleProbabilities = probabilitiesByExample();
  let polls = 0;
  const predictBodies: unknown[] = [];
  const server = await startJsonServer((request, body, send) => {
    const answerFromSamples = (instances: unknown[]) => {
      const probabilities = instances.map((instance) => knownProbability(sampleProbabilities, instance));
      // Loud rather than made up: this fake runs no model, so it knows only the sample rows.
      if (probabilities.length === 0 || probabilities.some((probability) => probability === undefined)) {
        return send(500, { error: "the fake TF Serving answers only the sample rows of assets/diabetes-sample-predictions.json" });
      }
      return send(200, { predictions: probabilities.map((probability) => [probability]) });
    };
    if (request.method === "GET" && request.url === `/v1/models/${model}`) {
      const state = options.states[Math.min(polls, options.states.length - 1)];
      polls += 1;
      return send(200, { model_version_status: [{ version: "1763528202", state, status: { error_code: "OK", error_message: "" } }] });
    }
    if (request.method === "POST" && request.url === `/v1/models/${model}:predict`) {
      const parsed = JSON.parse(body) as { instances?: unknown[] };
      predictBodies.push(parsed);
      if (options.predict) return send(options.predict.status, options.predict.body);
      return answerFromSamples(parsed.instances ?? []);
    }
    send(404, { error: `Servable not found for request: ${request.method} ${request.url}` });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statusPolls: () => polls,
    predictBodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
