/**
 * Which Docker engine a deploy reaches, and what `npm start` says about it before deploying.
 *
 * The Docker CLI follows `DOCKER_HOST`, else its current context (Colima, Rancher Desktop, Docker
 * Desktop without /var/run/docker.sock); Pulumi's Docker provider reads only `DOCKER_HOST`, else
 * `unix:///var/run/docker.sock` (pulumi-docker#603). So the preflight's `docker info` could pass while
 * every Docker resource failed to connect. The engine the CLI uses is handed to Pulumi as `DOCKER_HOST`,
 * unless the stack sets `docker:host` itself (the provider's own config wins over the environment).
 */
import * as path from "node:path";
import { parse } from "yaml";
import { Runner, runQuiet } from "./preflight";

/** The current context as `docker context inspect` shows it. */
export interface DockerContext {
  name: string;
  host: string;
  /** The folder holding the context's ca.pem/cert.pem/key.pem, when it has TLS material. */
  tlsDir?: string;
  skipTlsVerify: boolean;
}

export interface DockerEngine {
  /** The engine's address, e.g. `unix:///Users/me/.colima/default/docker.sock`; undefined for the provider's default. */
  host: string | undefined;
  /** Where it comes from, for the console line. */
  source: string;
  /** Environment the Pulumi CLI (and so the Docker provider) gets; empty when it already sees the same engine. */
  env: Record<string, string>;
}

/** The provider's default when nothing else names an engine. */
export const DEFAULT_DOCKER_HOST = process.platform === "win32" ? "npipe:////./pipe/docker_engine" : "unix:///var/run/docker.sock";

/**
 * The first context of `docker context inspect` (JSON array) output. TLS material lives in
 * `<Storage.TLSPath>/docker/`; the CLI passes it on its own, the provider needs DOCKER_CERT_PATH.
 */
export function parseContextInspect(output: string): DockerContext | undefined {
  let contexts: unknown;
  try {
    contexts = JSON.parse(output);
  } catch {
    return undefined;
  }
  const context = (Array.isArray(contexts) ? contexts[0] : undefined) as
    | { Name?: string; Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } }; TLSMaterial?: { docker?: string[] }; Storage?: { TLSPath?: string } }
    | undefined;
  const host = context?.Endpoints?.docker?.Host;
  if (!context || typeof host !== "string" || host === "") return undefined;
  const hasTls = (context.TLSMaterial?.docker ?? []).length > 0 && typeof context.Storage?.TLSPath === "string";
  return {
    name: context.Name ?? "",
    host,
    ...(hasTls ? { tlsDir: path.join(context.Storage!.TLSPath!, "docker") } : {}),
    skipTlsVerify: context.Endpoints?.docker?.SkipTLSVerify === true,
  };
}

/** `docker:host` in Pulumi.<stack>.yaml (a `secure:` value counts as set, shown without its value). */
export function stackDockerHost(stackFileText: string | undefined): string | undefined {
  if (stackFileText === undefined) return undefined;
  const config = (parse(stackFileText) as { config?: Record<string, unknown> } | null)?.config;
  const value = config?.["docker:host"];
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (value && typeof value === "object" && "secure" in value) return "(a secret value)";
  return undefined;
}

/** The engine for the deploy: the stack's `docker:host`, else DOCKER_HOST, else the CLI's current context, else the default. */
export function resolveDockerEngine(input: { env: NodeJS.ProcessEnv; stackFile: string; stackHost?: string; context?: DockerContext }): DockerEngine {
  if (input.stackHost) return { host: input.stackHost, source: `docker:host in ${input.stackFile}`, env: {} };
  const fromEnv = input.env.DOCKER_HOST?.trim();
  if (fromEnv) return { host: fromEnv, source: "DOCKER_HOST", env: {} };
  const context = input.context;
  if (!context) return { host: undefined, source: "no DOCKER_HOST and no docker context: the Docker provider's default", env: {} };
  const tls: Record<string, string> = context.tlsDir ? { DOCKER_CERT_PATH: context.tlsDir, ...(context.skipTlsVerify ? {} : { DOCKER_TLS_VERIFY: "1" }) } : {};
  return { host: context.host, source: `the docker context "${context.name}"`, env: { DOCKER_HOST: context.host, ...tls } };
}

/** The one console line naming the engine. */
export function describeDockerEngine(engine: DockerEngine): string {
  const passed = engine.env.DOCKER_HOST ? "; passed to Pulumi as DOCKER_HOST" : "";
  return `Docker engine: ${engine.host ?? DEFAULT_DOCKER_HOST} (${engine.source}${passed})`;
}

/** The CLI's current context (`DOCKER_CONTEXT` or the one `docker context use` chose); undefined when the CLI has no contexts. */
export async function currentDockerContext(run: Runner = runQuiet): Promise<DockerContext | undefined> {
  const result = await run("docker", ["context", "inspect"], 20_000);
  return result.code === 0 ? parseContextInspect(result.output) : undefined;
}

/** The engine for a stack of the project in `projectDir`. */
export async function dockerEngineFor(projectDir: string, stackName: string, readText: (file: string) => string | undefined, env: NodeJS.ProcessEnv = process.env, run: Runner = runQuiet): Promise<DockerEngine> {
  const stackFile = `Pulumi.${stackName}.yaml`;
  const stackHost = stackDockerHost(readText(path.join(projectDir, stackFile)));
  // With DOCKER_HOST or docker:host set, the context does not matter: no need to ask the CLI.
  const context = stackHost || env.DOCKER_HOST?.trim() ? undefined : await currentDockerContext(run);
  return resolveDockerEngine({ env, stackFile, stackHost, context });
}

/** Docker's architecture names for 64-bit ARM (`docker info` says aarch64 on Linux and Docker Desktop). */
const ARM64 = new Set(["aarch64", "arm64", "arm64/v8"]);

/**
 * One line for an arm64 engine (Apple Silicon, Graviton, Ampere), or undefined. TF Serving publishes
 * amd64 images only (tensorflow/serving#1948), so it runs under emulation; its binaries use AVX, which
 * Apple documents Rosetta does not translate (Rosetta's "AVX, AVX2 and AVX512" note) and QEMU lacked
 * (docker/for-mac#6620); no Docker Desktop setting is documented to provide it.
 */
export function emulationNotice(architecture: string, options: { stackName: string; pulumi: string; platformKey: string }): string | undefined {
  if (!ARM64.has(architecture.trim().toLowerCase())) return undefined;
  return (
    `This Docker engine is ${architecture} (arm64): TF Serving's images are amd64 only, so it runs under amd64 emulation and needs AVX there, ` +
    `which no Docker Desktop setting is documented to provide ("Use Rosetta for x86_64/amd64 emulation on Apple Silicon" lacks AVX in Apple's Rosetta docs; ` +
    `AVX2 in newer macOS Rosetta is unconfirmed); if the model does not load, serve from an arm64 build of TF Serving: ` +
    `${options.pulumi} config set -s ${options.stackName} tfserving-platform:tfServingImage <image:tag>, and tfserving-platform:${options.platformKey} linux/arm64.`
  );
}
