/**
 * A bounded load generator for the served diabetes model: predict requests at a fixed rate for a
 * fixed time, built on the project's tf.Example client, with a summary of what came back.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { apiKeyHeaders, predictRequestBody, predictUrl, readPrediction } from "../../components/serving/predict";
import { DiabetesRow } from "../../components/serving/tfExample";

/** Caps by design: enough to fill a dashboard, too little to be a load test against somebody's service. */
export const MAX_RATE_PER_SECOND = 50;
export const MAX_DURATION_SECONDS = 600;

export interface TrafficOptions {
  servingUrl: string;
  modelName: string;
  ratePerSecond: number;
  durationSeconds: number;
  nextRow: () => DiabetesRow;
  requestTimeoutMs?: number;
  /** A consumer's key for the front door. */
  apiKey?: string;
  /** Called after every send and every answer. */
  onProgress?: (progress: Progress) => void;
  /** Stops sending (Ctrl+C); requests in flight still finish and count. */
  signal?: AbortSignal;
}

export interface Progress {
  planned: number;
  sent: number;
  ok: number;
  failed: number;
}

export interface TrafficSummary extends Progress {
  /** Failures by cause: `HTTP 503`, `timeout`, `no connection`, `bad answer`. */
  errors: Record<string, number>;
  /** Latency of successful predictions in ms; absent when none succeeded. */
  latencyMs?: { p50: number; p95: number; p99: number };
  /** Range of the probabilities the model answered; absent when none succeeded. */
  probability?: { min: number; max: number };
}

/** Throws a message naming the flag when the rate or duration is outside the caps. */
export function checkLimits(ratePerSecond: number, durationSeconds: number): void {
  if (!(ratePerSecond > 0 && ratePerSecond <= MAX_RATE_PER_SECOND)) {
    throw new Error(`--rate must be above 0 and at most ${MAX_RATE_PER_SECOND} requests/s (got ${ratePerSecond}); the generator is capped by design`);
  }
  if (!(durationSeconds > 0 && durationSeconds <= MAX_DURATION_SECONDS)) {
    throw new Error(`--duration must be above 0 and at most ${MAX_DURATION_SECONDS}s (got ${durationSeconds}s); run it again for more`);
  }
  if (Math.round(ratePerSecond * durationSeconds) < 1) {
    throw new Error(`--rate ${ratePerSecond} for --duration ${durationSeconds}s sends no request; raise one of them`);
  }
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

type Outcome = { ok: true; latencyMs: number; probability: number } | { ok: false; cause: string };

async function sendOne(url: string, row: DiabetesRow, timeoutMs: number, apiKey: string | undefined): Promise<Outcome> {
  const started = performance.now();
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...apiKeyHeaders(apiKey) },
      body: predictRequestBody(row),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    return { ok: false, cause: (error as Error).name === "TimeoutError" ? "timeout" : "no connection" };
  }
  const latencyMs = performance.now() - started;
  try {
    return { ok: true, latencyMs, probability: readPrediction(response.status, body) };
  } catch {
    return { ok: false, cause: response.ok ? "bad answer" : `HTTP ${response.status}` };
  }
}

/**
 * Sends `rate x duration` requests, request i at start + i/rate (open loop: a slow server does not
 * slow the sending down, as real clients would not), then waits for the answers.
 */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  checkLimits(options.ratePerSecond, options.durationSeconds);
  const url = predictUrl(options.servingUrl, options.modelName);
  const planned = Math.round(options.ratePerSecond * options.durationSeconds);
  const progress: Progress = { planned, sent: 0, ok: 0, failed: 0 };
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  const probabilities: number[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();

  for (let i = 0; i < planned && !options.signal?.aborted; i++) {
    const wait = start + (i * 1000) / options.ratePerSecond - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) break;
    progress.sent++;
    options.onProgress?.({ ...progress });
    inFlight.push(
      sendOne(url, options.nextRow(), options.requestTimeoutMs ?? 10_000, options.apiKey).then((outcome) => {
        if (outcome.ok) {
          progress.ok++;
          latencies.push(outcome.latencyMs);
          probabilities.push(outcome.probability);
        } else {
          progress.failed++;
          errors[outcome.cause] = (errors[outcome.cause] ?? 0) + 1;
        }
        options.onProgress?.({ ...progress });
      }),
    );
  }
  await Promise.all(inFlight);

  latencies.sort((a, b) => a - b);
  return {
    ...progress,
    errors,
    ...(latencies.length > 0 ? { latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) } } : {}),
    ...(probabilities.length > 0 ? { probability: { min: Math.min(...probabilities), max: Math.max(...probabilities) } } : {}),
  };
}

/** `[########------------]  40%  80/200 sent  78 OK  2 failed` */
export function progressBar(progress: Progress, width = 24): string {
  const done = progress.ok + progress.failed;
  const filled = progress.planned === 0 ? width : Math.round((done / progress.planned) * width);
  const percent = progress.planned === 0 ? 100 : Math.floor((done / progress.planned) * 100);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}%  ${progress.sent}/${progress.planned} sent  ${progress.ok} OK  ${progress.failed} failed`;
}

export function formatSummary(summary: TrafficSummary): string {
  const lines = [`sent ${summary.sent} of ${summary.planned}, OK ${summary.ok}, failed ${summary.failed}`];
  for (const [cause, count] of Object.entries(summary.errors).sort()) lines.push(`  ${cause}: ${count}`);
  const latency = summary.latencyMs;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  lines.push(latency ? `latency of OK requests: p50 ${ms(latency.p50)}, p95 ${ms(latency.p95)}, p99 ${ms(latency.p99)}` : "latency: no successful request");
  if (summary.probability) lines.push(`probability of diabetes answered: min ${summary.probability.min.toFixed(4)}, max ${summary.probability.max.toFixed(4)}`);
  return lines.join("\n");
}
