/**
 * Sends predict requests to the served model for a while, e.g. to fill the dashboard after `pulumi up`
 * or as a smoke test:
 *
 *   npm run traffic -- [--url <servingUrl>] [--rate 5] [--duration 60] [--rows sample|random]
 *                      [--model diabetes-prediction] [--timeout-ms 10000] [--json] [--consumer <name>]
 *
 * Without --url it reads the selected stack's `servingUrl` output with the pulumi CLI. The front door's key
 * comes from TFSERVING_API_KEY or the stack's apiKeys output (the first consumer's, or --consumer's), never printed. Rate is capped
 * at 50 requests/s and duration at 600s (a number of seconds, or 30s / 2m). Progress goes to stderr,
 * the summary to stdout (JSON with --json). Exits 1 when any request failed, 2 on bad arguments.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { durationMs } from "../components/config/stackConfig";
import { UsageError, numberFlag } from "./cliFlags";
import { Progress, checkLimits, formatSummary, progressBar, runTraffic } from "./traffic/generator";
import { rowSource } from "./traffic/rows";
import { resolveApiKey } from "./apiKey";


/** The stack output, when the pulumi CLI is here and a stack is selected. */
function stackServingUrl(): string {
  const result = spawnSync("pulumi", ["stack", "output", "servingUrl"], { encoding: "utf8", timeout: 60_000 });
  if (result.error) throw new UsageError(`--url is required: the pulumi CLI is not available (${result.error.message}) to read the stack output servingUrl`);
  if (result.status !== 0) {
    throw new UsageError(`--url is required: \`pulumi stack output servingUrl\` failed (${result.stderr.trim()}); select a stack with \`pulumi stack select\` or pass --url`);
  }
  return result.stdout.trim();
}

function seconds(text: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : durationMs(text);
  if (ms === undefined) throw new UsageError(`--duration must be seconds or a duration such as 30s or 2m (got "${text}")`);
  return ms / 1000;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      rate: { type: "string", default: "5" },
      duration: { type: "string", default: "60" },
      rows: { type: "string", default: "sample" },
      model: { type: "string", default: "diabetes-prediction" },
      "timeout-ms": { type: "string", default: "10000" },
      json: { type: "boolean", default: false },
      consumer: { type: "string" },
    },
  });
  const ratePerSecond = numberFlag("rate", values.rate);
  const durationSeconds = seconds(values.duration);
  try {
    checkLimits(ratePerSecond, durationSeconds);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.rows !== "sample" && values.rows !== "random") throw new UsageError(`--rows must be sample or random (got "${values.rows}")`);
  const servingUrl = values.url ?? stackServingUrl();
  if (!/^https?:\/\/[^/\s]+/.test(servingUrl)) throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:8501 (got "${servingUrl}")`);

  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  // A redrawn bar on a terminal; a line per 10% in logs, where \r would pile up.
  let lastDrawn = 0;
  let lastDecile = -1;
  const draw = (progress: Progress) => {
    const done = progress.ok + progress.failed;
    if (process.stderr.isTTY) {
      const now = Date.now();
      if (now - lastDrawn < 100 && done < progress.planned) return;
      lastDrawn = now;
      process.stderr.write(`\r${progressBar(progress)}`);
    } else {
      const decile = Math.floor((done / progress.planned) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${progressBar(progress)}\n`);
      }
    }
  };

  console.error(`Sending ${values.rows} rows to ${servingUrl} (model ${values.model}) at ${ratePerSecond} req/s for ${durationSeconds}s; Ctrl+C stops early.`);
  const summary = await runTraffic({
    servingUrl,
    modelName: values.model,
    ratePerSecond,
    durationSeconds,
    nextRow: rowSource(values.rows),
    requestTimeoutMs: numberFlag("timeout-ms", values["timeout-ms"]),
    apiKey: resolveApiKey(values.consumer),
    onProgress: draw,
    signal: stop.signal,
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return summary.failed > 0 ? 1 : 0;
}

// exitCode rather than exit(): stdout may be an asynchronous pipe (Windows) with the summary still in it.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: NodeJS.ErrnoException) => {
    console.error(error.message);
    process.exitCode = error instanceof UsageError || error.code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  },
);
