import * as pulumi from "@pulumi/pulumi";
import { PROJECT, SECRET_KEYS, SecretKey, StackConfig, parseStackConfig } from "./stackConfig";

export * from "./stackConfig";

/** Reads and validates this stack's config; throws before any resource is registered. */
export function loadStackConfig(projectDir: string): StackConfig {
  const prefix = `${PROJECT}:`;
  const values: Record<string, string> = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (fullKey.startsWith(prefix)) values[fullKey.slice(prefix.length)] = value;
  }
  return parseStackConfig({ stack: pulumi.getStack(), projectDir, values });
}

/** A secret config value as a Pulumi secret output, or undefined when the stack does not set it. */
export function secretConfig(name: SecretKey): pulumi.Output<string> | undefined {
  if (!SECRET_KEYS.includes(name)) throw new Error(`${name} is not a secret key`);
  return new pulumi.Config(PROJECT).getSecret(name);
}
