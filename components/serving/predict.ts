/** A REST client for the diabetes model's predict API: one row in, one probability out. */
import { DiabetesRow, encodeDiabetesExample } from "./tfExample";

/** A failed prediction; httpStatus is set when TF Serving answered, `cause` holds a network or timeout error. */
export class PredictionError extends Error {
  constructor(
    message: string,
    readonly httpStatus?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PredictionError";
  }
}

/** The variable the project's clients (predict, traffic, the live test) read a consumer's key from; never printed. */
export const API_KEY_ENV = "TFSERVING_API_KEY";

/** The header the front door asks for: `Authorization: Bearer <key>`; none without a key (a public endpoint). */
export function apiKeyHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

export function predictUrl(servingUrl: string, modelName: string): string {
  return `${servingUrl.replace(/\/+$/, "")}/v1/models/${modelName}:predict`;
}

/** `{"instances":[{"b64": <serialized tf.Example>}]}`, the shape the TFX serving signature takes. */
export function predictRequestBody(row: DiabetesRow): string {
  return JSON.stringify({ instances: [{ b64: encodeDiabetesExample(row).toString("base64") }] });
}

/**
 * The probability from a predict answer `{"predictions": [[p]]}`, or an error that quotes what TF
 * Serving said (its `{"error": ...}` body on 4xx/5xx) so a signature mismatch explains itself.
 */
export function readPrediction(httpStatus: number, body: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PredictionError(`predict answered HTTP ${httpStatus} with a body that is not JSON: ${body.slice(0, 200)}`, httpStatus);
  }
  const record = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { error?: unknown; predictions?: unknown };
  if (httpStatus >= 400 || record.error !== undefined) {
    const message = record.error !== undefined ? JSON.stringify(record.error) : body.slice(0, 200);
    throw new PredictionError(`predict answered HTTP ${httpStatus}: ${message}`, httpStatus);
  }
  const predictions = record.predictions;
  const probability = Array.isArray(predictions) && Array.isArray(predictions[0]) ? predictions[0][0] : undefined;
  if (typeof probability !== "number") {
    throw new PredictionError(`predict answered ${body.slice(0, 200)}; expected {"predictions": [[<probability>]]}`, httpStatus);
  }
  if (!(probability >= 0 && probability <= 1)) {
    throw new PredictionError(`predict answered the probability ${probability}, outside [0, 1]; is the served model the diabetes classifier?`, httpStatus);
  }
  return probability;
}

export interface PredictOptions {
  /** Limit for the whole request, answer included; a hung connection fails instead of blocking. */
  timeoutMs?: number;
  /** A consumer's key for the front door. */
  apiKey?: string;
}

export interface PredictResult {
  /** Probability of diabetes, in [0, 1]. */
  probability: number;
  /** From sending the request to reading the whole answer. */
  latencyMs: number;
  httpStatus: number;
}

/** Sends one row to `POST <servingUrl>/v1/models/<modelName>:predict` and returns the probability of diabetes. */
export async function predict(servingUrl: string, modelName: string, row: DiabetesRow, options: PredictOptions = {}): Promise<PredictResult> {
  const url = predictUrl(servingUrl, modelName);
  // Encode (and validate the row) before the clock starts, so latency is the server's round trip.
  const body = predictRequestBody(row);
  const started = performance.now();
  let httpStatus: number;
  let text: string;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...apiKeyHeaders(options.apiKey) },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    httpStatus = response.status;
    text = await response.text();
  } catch (error) {
    throw new PredictionError(`POST ${url} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  const latencyMs = performance.now() - started;
  return { probability: readPrediction(httpStatus, text), latencyMs, httpStatus };
}
