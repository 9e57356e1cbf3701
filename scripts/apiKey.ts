/**
 * The key the project's clients send to the front door: TFSERVING_API_KEY, or a consumer's key from the
 * selected stack's `apiKeys` output (a secret, read with the pulumi CLI). Never printed.
 */
import { spawnSync } from "node:child_process";
import { API_KEY_ENV } from "../components/serving/predict";

/** The key of `consumer`, or of the first consumer by name, from the `apiKeys` output (a JSON map); undefined when it names none. */
export function keyFromApiKeysOutput(apiKeysJson: string, consumer?: string): string | undefined {
  const keys = JSON.parse(apiKeysJson || "{}") as Record<string, string>;
  const names = Object.keys(keys).sort();
  if (consumer === undefined) return names.length > 0 ? keys[names[0]] : undefined;
  if (!(consumer in keys)) throw new Error(`the stack output apiKeys has no key for consumer "${consumer}" (consumers: ${names.join(", ") || "none"})`);
  return keys[consumer];
}

/**
 * TFSERVING_API_KEY when set; otherwise the selected stack's key (of `consumer`, or the first), when the
 * pulumi CLI can read it; undefined otherwise (a public endpoint needs none, and the door's 401 says how).
 */
export function resolveApiKey(consumer?: string): string | undefined {
  const fromEnvironment = process.env[API_KEY_ENV];
  if (fromEnvironment) return fromEnvironment;
  const result = spawnSync("pulumi", ["stack", "output", "apiKeys", "--show-secrets"], { encoding: "utf8", timeout: 60_000 });
  if (result.error || result.status !== 0) {
    if (consumer !== undefined) throw new Error(`--consumer needs the stack output apiKeys, which the pulumi CLI could not read; set ${API_KEY_ENV} instead`);
    return undefined;
  }
  return keyFromApiKeysOutput(result.stdout.trim(), consumer);
}
