/**
 * The stack configuration, composed of each part's keys, checks and derived values (each kept beside its
 * part: components/<part>/config.ts). A new part adds its keys, secrets, problems and derived values to
 * the lists below; the README's configuration table documents every key.
 */
import { z } from "zod";
import { grafanaDerived, grafanaKeys } from "../grafana/config";
import { EXTERNAL_GRAFANA_SECRET_KEYS, externalGrafanaDerived, externalGrafanaKeys, externalGrafanaProblems } from "../grafana/externalConfig";
import { MONITORING_SECRET_KEYS, monitoringDerived, monitoringKeys, monitoringProblems } from "../monitoring/config";
import { PUSH_MODE_SECRET_KEYS, pushModeDerived, pushModeKeys, pushModeProblems } from "../monitoring/pushModeConfig";
import { RAILWAY_SECRET_KEYS, railwayKeys, railwayProblems } from "../railway/config";
import { FRONT_DOOR_SECRET_KEYS, frontDoorDerived, frontDoorKeys, frontDoorProblems } from "../frontDoor/config";
import { servingDerived, servingKeys, servingProblems } from "../serving/config";
import { sloDerived, sloKeys, sloProblems } from "../slo/config";
import { ConfigContext } from "./part";
import { key } from "./schema";

export { PROJECT, durationMs, imagePinProblem, isHttpUrl } from "./schema";
export { DEFAULT_IMAGES } from "./versions";
export { BUNDLED_MODEL_DIR, DEFAULT_IMAGE_PLATFORM } from "../serving/config";
export type { BatchingParameters } from "../serving/config";
export { defaultDashboardTitle } from "../grafana/config";
export { PROMETHEUS_SELF_JOB } from "../monitoring/config";
export { AGENT_LISTEN_PORT } from "../monitoring/pushModeConfig";

/** Every plain (non-secret) key, its type and its default. */
export const plainConfigSchema = z
  .object({ ...servingKeys, ...railwayKeys, ...monitoringKeys, ...grafanaKeys, ...pushModeKeys, ...externalGrafanaKeys, ...frontDoorKeys, ...sloKeys })
  .strict();

/** Keys whose values must be Pulumi secrets; read with getSecret, never through the plain schema. */
export const SECRET_KEYS = [
  ...RAILWAY_SECRET_KEYS,
  ...MONITORING_SECRET_KEYS,
  ...PUSH_MODE_SECRET_KEYS,
  ...EXTERNAL_GRAFANA_SECRET_KEYS,
  ...FRONT_DOOR_SECRET_KEYS,
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type PlainConfig = z.infer<typeof plainConfigSchema>;
export type ConfigKey = keyof PlainConfig | SecretKey;
export const PLAIN_KEYS = Object.keys(plainConfigSchema.shape) as (keyof PlainConfig)[];

const PART_PROBLEMS = [servingProblems, railwayProblems, monitoringProblems, pushModeProblems, externalGrafanaProblems, frontDoorProblems, sloProblems];

function derive(context: ConfigContext) {
  return {
    ...servingDerived(context),
    ...monitoringDerived(context),
    ...grafanaDerived(context),
    ...pushModeDerived(context),
    ...externalGrafanaDerived(context),
    ...frontDoorDerived(context),
    ...sloDerived(context),
  };
}

/** Validated, normalised config the components consume. */
export type StackConfig = Omit<PlainConfig, keyof ReturnType<typeof derive>> &
  ReturnType<typeof derive> & {
    stack: string;
    /** Which secret keys the stack has set (their values stay in Pulumi secrets). */
    secretsPresent: Record<SecretKey, boolean>;
  };

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

export interface ConfigInput {
  stack: string;
  projectDir: string;
  /** Raw values of this project's keys, without the namespace (Pulumi config values are strings). */
  values: Record<string, string | undefined>;
}

/**
 * Validates the whole stack configuration at once and reports every problem in a single error,
 * each naming the key as the user types it and what to do about it.
 */
export function parseStackConfig({ stack, projectDir, values }: ConfigInput): StackConfig {
  // An empty secret counts as unset: an empty token would only fail later, inside the deploy.
  const secretsPresent = Object.fromEntries(SECRET_KEYS.map((name) => [name, (values[name] ?? "") !== ""])) as Record<SecretKey, boolean>;
  const plainValues: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || (SECRET_KEYS as readonly string[]).includes(name)) continue;
    plainValues[name] = value;
  }

  const parsed = plainConfigSchema.safeParse(plainValues);
  if (!parsed.success) throw new StackConfigError(parsed.error.issues.flatMap((issue) => schemaProblems(issue, plainValues)));

  const context: ConfigContext = { stack, projectDir, plain: parsed.data, secretsPresent, secretValue: (name) => values[name] };
  const problems = PART_PROBLEMS.flatMap((partProblems) => partProblems(context));
  if (problems.length > 0) throw new StackConfigError(problems);
  return { ...parsed.data, ...derive(context), stack, secretsPresent };
}

function schemaProblems(issue: z.core.$ZodIssue, plainValues: Record<string, string>): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((unknown) => {
      const suggestion = PLAIN_KEYS.find((known) => known.toLowerCase() === unknown.toLowerCase());
      return (
        `${key(unknown)}: unknown key${suggestion ? `; did you mean ${key(suggestion)}?` : ""} ` +
        `(remove it with \`pulumi config rm ${key(unknown)}\`; the README lists every key)`
      );
    });
  }
  const name = String(issue.path[0]);
  const shown = plainValues[name] === undefined ? "" : ` (got "${plainValues[name]}")`;
  const example = name === "modelDir" ? "./serving_model/diabetes-prediction" : "<value>";
  return [`${key(name)}: ${issue.message}${shown}; run \`pulumi config set ${key(name)} ${example}\``];
}


