/**
 * Building blocks every part's config keys are made of: the project namespace, the value types (zod, read
 * from Pulumi's string values) and the wording of a problem, so each part's keys and checks live beside
 * the part (e.g. components/serving/config.ts) and components/config/stackConfig.ts only composes them.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { DEFAULT_IMAGES } from "./versions";

/** Pulumi project name; every config key lives under this namespace. */
export const PROJECT = "tfserving-platform";

/** A key as the user types it, e.g. `tfserving-platform:restPort`. */
export const key = (name: string) => `${PROJECT}:${name}`;
/** The `pulumi config set` command that fixes a key. */
export const setHint = (name: string, example: string) => `run \`pulumi config set ${key(name)} ${example}\``;
export const setSecretHint = (name: string, example: string) => `run \`pulumi config set --secret ${key(name)} ${example}\``;

/** True for an absolute http(s) URL (callers never echo the value, it may be a secret). */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const PROMETHEUS_DURATION = /^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/;
const UNIT_MS: Record<string, number> = { y: 31536000000, w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };

/** Milliseconds in a Prometheus duration such as `1m30s`; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  if (text === "" || !PROMETHEUS_DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(amount) * UNIT_MS[unit];
  return total;
}

/**
 * An image reference with an explicit tag other than `latest` (a digest also pins it).
 * Returns a problem description, or undefined when the reference is pinned.
 */
export function imagePinProblem(ref: string): string | undefined {
  if (/\s/.test(ref) || ref === "") return "is not an image reference";
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return undefined;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "has no tag, so every build could pull a different image";
  const tag = lastSegment.slice(colon + 1);
  if (tag === "latest") return "uses the moving `latest` tag";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `has an invalid tag "${tag}"`;
  return undefined;
}

/** Pulumi config values are strings: numbers arrive as text. */
export const fromText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value), schema);
export const number = () => z.number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number" : undefined) });
export const integer = (min: number, max: number) =>
  fromText(number().int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
export const positiveNumber = fromText(number().positive("must be greater than 0"));
export const ratio = fromText(number().gt(0, "must be above 0").lt(1, "must be below 1 (a ratio, 0.05 = 5%)"));
export const port = integer(1, 65535);
export const bool = z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean({ error: "must be true or false" }));
export const duration = z.string().refine((text) => (durationMs(text) ?? 0) > 0, "must be a Prometheus duration such as 15s, 1m or 1h30m");
export const ipAddress = (example: string) =>
  z.string().refine((text) => isIP(text) !== 0, `must be an IP address such as ${example} (no host name, no brackets)`);
export const httpUrl = (example: string) => z.string().refine(isHttpUrl, `must be an http(s) URL such as ${example}`);
export const pinnedImage = z.string().superRefine((ref, ctx) => {
  const problem = imagePinProblem(ref);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem}; pin an exact tag such as ${DEFAULT_IMAGES.tfServing}` });
});
