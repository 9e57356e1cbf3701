/**
 * The key the project's clients send to the front door: TFSERVING_API_KEY, or a consumer's key from the
 * selected stack's `apiKeys` output (a secret, read with the pulumi CLI). Never printed.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { API_KEY_ENV } from "../components/serving/predict";
import { BackendProbe, PASSPHRASE_FILE, PROJECT_LOCAL_BACKEND_DIR, chosenBackend, fileBackendUrl, processProbe } from "./automation/stackHandling";

/** The key of `consumer`, or of the first consumer by name, from the `apiKeys` output (a JSON map); undefined when it names none. */
export function keyFromApiKeysOutput(apiKeysJson: string, consumer?: string): string | undefined {
  const keys = JSON.parse(apiKeysJson || "{}") as Record<string, string>;
  const names = Object.keys(keys).sort();
  if (consumer === undefined) return names.length > 0 ? keys[names[0]] : undefined;
  if (!(consumer in keys)) throw new Error(`the stack output apiKeys has no key for consumer "${consumer}" (consumers: ${names.join(", ") || "none"})`);
  return keys[consumer];
}

/**
 * The environment the CLI reads the output with: npm start's backend, as `npm run pulumi` gives it. With no
 * backend of the user's choosing that is the project-local fallback, and only when npm start has made it
 * (reading a key must not create a backend and a passphrase).
 */
export function outputReaderEnv(probe: BackendProbe): Record<string, string> {
  if (chosenBackend(probe)) return {};
  const dir = path.join(probe.projectDir, PROJECT_LOCAL_BACKEND_DIR);
  const passphrase = probe.readText(path.join(dir, PASSPHRASE_FILE))?.trim();
  return passphrase ? { PULUMI_BACKEND_URL: fileBackendUrl(dir), PULUMI_CONFIG_PASSPHRASE: passphrase } : {};
}

/**
 * TFSERVING_API_KEY when set; otherwise the selected stack's key (of `consumer`, or the first), when the
 * pulumi CLI can read it; undefined otherwise (a public endpoint needs none), after one line saying why.
 */
export function resolveApiKey(consumer?: string): string | undefined {
  const fromEnvironment = process.env[API_KEY_ENV];
  if (fromEnvironment) return fromEnvironment;
  const projectDir = path.resolve(__dirname, "..");
  const env = { ...process.env, ...outputReaderEnv(processProbe(projectDir)) };
  const result = spawnSync("pulumi", ["stack", "output", "apiKeys", "--show-secrets"], { cwd: projectDir, encoding: "utf8", timeout: 60_000, env });
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? result.stderr.trim().split("\n")[0];
    if (consumer !== undefined) throw new Error(`--consumer needs the stack output apiKeys, which the pulumi CLI could not read (${why}); set ${API_KEY_ENV} instead`);
    console.error(`No API key sent: ${API_KEY_ENV} is unset and the pulumi CLI could not read the stack output apiKeys (${why}).`);
    return undefined;
  }
  return keyFromApiKeysOutput(result.stdout.trim(), consumer);
}
