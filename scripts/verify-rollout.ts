/**
 * Gate for `pulumi up`: exits 0 only when the served model is AVAILABLE and answers a prediction.
 * Parameters come from the environment (set by the command resource):
 *   SERVING_URL, MODEL_NAME, TIMEOUT_SECONDS, and TFSERVING_API_KEY (a consumer's key for the front door; never printed);
 *   CONTAINER_NAME (local serving): fail as soon as this container exits or restarts, quoting its logs.
 */
import { containerCheck } from "../components/serving/containerState";
import { API_KEY_ENV } from "../components/serving/predict";
import { verifyRollout } from "../components/serving/rollout";
import { loadSampleRows } from "../components/serving/tfExample";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const servingUrl = required("SERVING_URL");
  const modelName = required("MODEL_NAME");
  const timeoutMs = Number(process.env.TIMEOUT_SECONDS ?? "600") * 1000;
  const containerName = process.env.CONTAINER_NAME;
  const { version, probability } = await verifyRollout({
    servingUrl,
    modelName,
    timeoutMs,
    sampleRow: loadSampleRows()[0],
    apiKey: process.env[API_KEY_ENV] || undefined,
    log: (line) => console.error(line),
    serverFailure: containerName ? containerCheck(containerName) : undefined,
  });
  console.log(JSON.stringify({ modelName, version, state: "AVAILABLE", probability }));
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
