/**
 * Sends one row to the served model and prints the probability of diabetes:
 *   npm run predict -- --url <servingUrl> [--row '{"Pregnancies":6,...}'] [--model diabetes-prediction] [--timeout-ms 10000] [--consumer <name>]
 * The front door's key comes from TFSERVING_API_KEY, or the selected stack's apiKeys output (the first
 * consumer's, or --consumer's); it is never printed.
 * Without --row it sends the first bundled sample row (assets/diabetes-sample-rows.json).
 * Prints {"probability", "latencyMs", "row"} on stdout; errors (TF Serving's own message included) on stderr.
 */
import { parseArgs } from "node:util";
import { predict } from "../components/serving/predict";
import { resolveApiKey } from "./apiKey";
import { loadSampleRows, parseDiabetesRow } from "../components/serving/tfExample";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      row: { type: "string" },
      model: { type: "string", default: "diabetes-prediction" },
      "timeout-ms": { type: "string", default: "10000" },
      consumer: { type: "string" },
    },
  });
  if (!values.url) throw new Error("--url is required: the stack output servingUrl, e.g. `pulumi stack output servingUrl`");
  const row = values.row === undefined ? loadSampleRows()[0] : parseDiabetesRow(parseJson(values.row));
  const timeoutMs = Number(values["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout-ms must be a positive whole number of milliseconds, got ${values["timeout-ms"]}`);
  const { probability, latencyMs } = await predict(values.url, values.model!, row, { timeoutMs, apiKey: resolveApiKey(values.consumer) });
  console.log(JSON.stringify({ probability, latencyMs: Math.round(latencyMs), row }));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`--row is not JSON (${(error as Error).message}); quote it, e.g. --row '{"Pregnancies":6,"Glucose":148,...}'`);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
