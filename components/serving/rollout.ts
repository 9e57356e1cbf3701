/**
 * Rollout checks against a TF Serving REST endpoint: the model is AVAILABLE (`GET /v1/models/<name>`)
 * and answers one real prediction.
 */
import { PredictionError, apiKeyHeaders, predict, predictUrl } from "./predict";
import { DiabetesRow } from "./tfExample";

export interface ModelVersionStatus {
  version: string;
  state: string;
  status?: { error_code?: string; error_message?: string };
}

export interface WaitOptions {
  servingUrl: string;
  modelName: string;
  timeoutMs: number;
  /** First delay between polls; doubles up to maxIntervalMs. */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  /** Per-request limit, so one hung connection cannot eat the whole budget. */
  requestTimeoutMs?: number;
  /** A consumer's key for the front door (the status route may be guarded too: modelStatusOpen false). */
  apiKey?: string;
  log?: (line: string) => void;
  /**
   * Asked after every poll that found no AVAILABLE version: a message when the server can no longer
   * become ready (its container exited), which fails the wait at once instead of at the timeout.
   */
  serverFailure?: () => Promise<string | undefined>;
}

export class RolloutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RolloutError";
  }
}

export function modelStatusUrl(servingUrl: string, modelName: string): string {
  return `${servingUrl.replace(/\/+$/, "")}/v1/models/${modelName}`;
}

/** Describes one poll's answer: the AVAILABLE version, or why not yet. */
export function readModelStatus(httpStatus: number, body: string): { available?: string; state: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { state: `HTTP ${httpStatus}, not JSON: ${body.slice(0, 200)}` };
  }
  const record = parsed as { model_version_status?: ModelVersionStatus[]; error?: string };
  if (record.error !== undefined) return { state: `HTTP ${httpStatus}: ${record.error}` };
  const versions = record.model_version_status ?? [];
  const available = versions.find((version) => version.state === "AVAILABLE");
  if (available) return { available: available.version, state: "AVAILABLE" };
  if (versions.length === 0) return { state: `HTTP ${httpStatus}: no model_version_status yet` };
  return {
    state: versions
      .map((version) => {
        const message = version.status?.error_message ? ` (${version.status.error_code}: ${version.status.error_message})` : "";
        return `version ${version.version} ${version.state}${message}`;
      })
      .join(", "),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until a version is AVAILABLE, with exponential backoff, within timeoutMs. The error names
 * the last state seen and what the server said, so a stuck rollout explains itself.
 */
export async function waitForModelAvailable(options: WaitOptions): Promise<string> {
  const url = modelStatusUrl(options.servingUrl, options.modelName);
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.initialIntervalMs ?? 500;
  const maxInterval = options.maxIntervalMs ?? 5000;
  let lastState = "no answer yet";
  for (;;) {
    try {
      const response = await fetch(url, { headers: apiKeyHeaders(options.apiKey), signal: AbortSignal.timeout(options.requestTimeoutMs ?? 5000) });
      const answer = readModelStatus(response.status, await response.text());
      if (answer.available !== undefined) return answer.available;
      lastState = answer.state;
    } catch (error) {
      lastState = `request failed: ${(error as Error).message}`;
    }
    const failure = await options.serverFailure?.();
    if (failure !== undefined) throw new RolloutError(failure);
    options.log?.(`waiting for ${url}: ${lastState}`);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new RolloutError(
        `Model "${options.modelName}" did not become AVAILABLE at ${url} within ${Math.round(options.timeoutMs / 1000)}s. ` +
          `Last state: ${lastState}. Check the serving logs; raise tfserving-platform:readinessTimeoutSeconds if the model is just slow to load.`,
      );
    }
    await sleep(Math.min(interval, remaining));
    interval = Math.min(interval * 2, maxInterval);
  }
}

export interface VerifyOptions extends WaitOptions {
  /** Row sent as the test prediction once the model is AVAILABLE. */
  sampleRow: DiabetesRow;
}

/**
 * The gate of `pulumi up`: waits for AVAILABLE, then sends one prediction and checks that a
 * probability comes back. AVAILABLE alone does not prove the signature takes our tf.Example.
 */
export async function verifyRollout(options: VerifyOptions): Promise<{ version: string; probability: number }> {
  const version = await waitForModelAvailable(options);
  try {
    const { probability } = await predict(options.servingUrl, options.modelName, options.sampleRow, {
      timeoutMs: options.requestTimeoutMs ?? 10_000,
      apiKey: options.apiKey,
    });
    return { version, probability };
  } catch (error) {
    if (!(error instanceof PredictionError)) throw error;
    throw new RolloutError(
      `Model "${options.modelName}" version ${version} is AVAILABLE, but the test prediction at ` +
        `${predictUrl(options.servingUrl, options.modelName)} failed: ${error.message}`,
    );
  }
}
