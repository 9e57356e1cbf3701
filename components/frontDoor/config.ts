import type { ConfigContext } from "../config/part";
import { bool, integer, key, pinnedImage, setHint } from "../config/schema";
import { DEFAULT_IMAGES } from "../config/versions";

/** TF Serving's REST port inside the serving container once the front door takes the public one (PORT). */
export const UPSTREAM_REST_PORT = 18501;
/** Caddy's own metrics, on loopback only, for push mode's agent. */
export const EDGE_METRICS_PORT = 9096;

/** Consumer names become environment variable names (FRONT_DOOR_KEY_<NAME>) and Caddy config entries. */
const CONSUMER_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/**
 * At least 32 characters of a token alphabet: no `*` (Caddy's header matcher reads it as a wildcard), no
 * braces (placeholders), and long enough that guessing is hopeless.
 */
const API_KEY = /^[A-Za-z0-9._~+/=-]{32,512}$/;

/** The front door's keys: the pinned Caddy image, the opt-out from API keys and the request limits. */
export const frontDoorKeys = {
  frontDoorImage: pinnedImage.default(DEFAULT_IMAGES.caddy),
  publicEndpoint: bool.default(false),
  modelStatusOpen: bool.default(true),
  maxRequestBodyBytes: integer(1024, 256 * 1024 * 1024).default(1024 * 1024),
};

/** apiKeys: a map of consumer name to key, e.g. {"team-a":"<key>"}; set one entry with `--path`. */
export const FRONT_DOOR_SECRET_KEYS = ["apiKeys"] as const;

const ROTATE_HINT = `run \`pulumi config set --secret --path '${key("apiKeys")}.<consumer>' <key of 32+ characters>\``;

/** The consumers and their keys, or a problem that names the key without echoing any value. */
export function parseApiKeys(text: string): { keys: Record<string, string> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: `${key("apiKeys")}: must be a map of consumer name to key (JSON object); ${ROTATE_HINT}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { problem: `${key("apiKeys")}: must be a map of consumer name to key (JSON object); ${ROTATE_HINT}` };
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0) return { problem: `${key("apiKeys")}: names no consumer; ${ROTATE_HINT}, or remove the key` };
  for (const [name, value] of entries) {
    if (!CONSUMER_NAME.test(name)) {
      return { problem: `${key("apiKeys")}: consumer name "${name}" must be lowercase letters, digits and single dashes, e.g. team-a` };
    }
    if (typeof value !== "string" || !API_KEY.test(value)) {
      return {
        problem: `${key("apiKeys")}.${name}: the key must be 32 to 512 characters of letters, digits and . _ ~ + / = - (e.g. \`openssl rand -base64 32\`); ${ROTATE_HINT}`,
      };
    }
  }
  return { keys: Object.fromEntries(entries) as Record<string, string> };
}

export function frontDoorProblems({ plain, secretsPresent, secretValue }: ConfigContext): string[] {
  const problems: string[] = [];
  if (secretsPresent.apiKeys) {
    const parsed = parseApiKeys(secretValue("apiKeys")!);
    if ("problem" in parsed) problems.push(parsed.problem);
    if (plain.publicEndpoint) {
      problems.push(`${key("publicEndpoint")}: is true but ${key("apiKeys")} is set; remove one (\`pulumi config rm ${key("publicEndpoint")}\` to require the keys)`);
    }
  } else if (plain.deployTarget === "railway" && !plain.publicEndpoint) {
    problems.push(
      `${key("apiKeys")}: is required when deployTarget is railway, or the model answers anyone who finds its domain; ` +
        `${ROTATE_HINT}, or ${setHint("publicEndpoint", "true")} to serve it without keys on purpose`,
    );
  }
  for (const name of ["restPort", "grpcPort"] as const) {
    for (const [taken, what] of [
      [UPSTREAM_REST_PORT, "TF Serving's REST port behind the front door"],
      [EDGE_METRICS_PORT, "the front door's loopback metrics port"],
    ] as const) {
      if (plain[name] === taken) problems.push(`${key(name)}: ${taken} is ${what}; ${setHint(name, name === "restPort" ? "8501" : "8500")}`);
    }
  }
  return problems;
}

export function frontDoorDerived({ plain, secretsPresent, secretValue }: ConfigContext) {
  const configured = secretsPresent.apiKeys ? parseApiKeys(secretValue("apiKeys")!) : undefined;
  const names = configured && "keys" in configured ? Object.keys(configured.keys).sort() : [];
  return {
    /**
     * Who holds a key (names only; the keys stay secrets): the configured consumers, or `dev` with a
     * generated key on a local stack that sets none; none at all for a public endpoint.
     */
    apiKeyConsumers: plain.publicEndpoint ? [] : names.length > 0 ? names : plain.deployTarget === "local" ? [GENERATED_CONSUMER] : [],
  };
}

/** The consumer of the key a local stack generates when apiKeys is not set. */
export const GENERATED_CONSUMER = "dev";
