/**
 * What `npm start` and `npm run test:live` need before they touch a stack: the Pulumi CLI and a
 * Docker engine. Each probe is a function, so tests can inject one; the result is ONE line naming
 * whatever is missing and how to get it, never a stack trace.
 */
import { spawn } from "node:child_process";
import { PulumiCommand } from "@pulumi/pulumi/automation";

export const INSTALL = {
  pulumi: "the Pulumi CLI (https://www.pulumi.com/docs/install/)",
  docker: "a running Docker engine (Docker Desktop, or Docker Engine on Linux: https://docs.docker.com/engine/install/)",
} as const;

/** A reason to stop before deploying; its message is the one line to print (no stack trace). */
export class StopLine extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StopLine";
  }
}

/** A missing prerequisite; its message is the one line to print. */
export class MissingToolError extends StopLine {
  constructor(message: string) {
    super(message);
    this.name = "MissingToolError";
  }
}

export type Probe<T> = () => Promise<{ ok: true; value: T } | { ok: false; problem: string }>;

/** `spawn pulumi ENOENT` (POSIX) or "not recognized" (cmd.exe): the CLI is not on PATH. */
export function isNotInstalled(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String((error as { commandResult?: unknown }).commandResult ?? "")}` : String(error);
  return /\bENOENT\b|not recognized as an internal or external command|command not found/i.test(text);
}

/**
 * The CLI on PATH through PulumiCommand.get() (it runs `pulumi version`; never install(), which
 * downloads one). Absent: "not found"; too old or broken: the first line of what it said.
 */
export const probePulumi: Probe<PulumiCommand> = async () => {
  try {
    return { ok: true, value: await PulumiCommand.get() };
  } catch (error) {
    if (isNotInstalled(error)) return { ok: false, problem: `${INSTALL.pulumi}: \`pulumi\` is not on PATH` };
    return { ok: false, problem: `${INSTALL.pulumi}: \`pulumi version\` failed (${firstLine(error)})` };
  }
};

export interface QuietResult {
  code: number | null;
  output: string;
  error?: Error;
}

/** How the scripts run a tool; tests pass a fake modelled on the tool's real answers. */
export type Runner = (command: string, args: string[], timeoutMs: number) => Promise<QuietResult>;

/** Runs a command with a time limit; resolves with its exit code and output (stdout, then stderr), or the spawn error. */
export const runQuiet: Runner = (command, args, timeoutMs) => {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, output, error });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
};

/** What `docker info` says about the engine: its OS name (e.g. "Docker Desktop") and CPU architecture (e.g. "x86_64", "aarch64"). */
export interface DockerEngineInfo {
  operatingSystem: string;
  architecture: string;
}

/** `docker info --format '{{.Architecture}}|{{.OperatingSystem}}'`: the architecture never holds a `|`. */
export function parseEngineInfo(output: string): DockerEngineInfo {
  const text = output.trim();
  const bar = text.indexOf("|");
  return bar < 0 ? { architecture: "", operatingSystem: text } : { architecture: text.slice(0, bar), operatingSystem: text.slice(bar + 1) };
}

/** The engine answers `docker info` (a client without an engine is not enough); its OS name and architecture. */
export function dockerProbe(run: Runner = runQuiet): Probe<DockerEngineInfo> {
  return async () => {
    const result = await run("docker", ["info", "--format", "{{.Architecture}}|{{.OperatingSystem}}"], 20_000);
    if (result.error) return { ok: false, problem: `${INSTALL.docker}: \`docker\` is not on PATH` };
    if (result.code !== 0) return { ok: false, problem: `${INSTALL.docker}: the engine does not answer (${firstLine(result.output) || `exit ${result.code}`})` };
    return { ok: true, value: parseEngineInfo(result.output) };
  };
}

/**
 * One line out of an error or a tool's output: for the Automation API's CommandError (whose message
 * is "code: .. stdout: .. stderr: .."), the CLI's first `error:` line; otherwise the first non-empty line.
 */
export function firstLine(value: unknown): string {
  const stderr = (value as { commandResult?: { stderr?: unknown } } | undefined)?.commandResult?.stderr;
  const text = typeof stderr === "string" && stderr.trim() !== "" ? stderr : value instanceof Error ? value.message : String(value);
  // The Automation API's "Command failed with exit code N: pulumi ..." line repeats the CLI's argv, secret config included.
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "" && !/^Command failed with exit code/.test(line));
  return (lines.find((line) => /^error:/i.test(line)) ?? lines[0] ?? "").slice(0, 300);
}

/** What the CLI said on stderr, for an Automation API CommandError; the error's text otherwise. */
export function errorText(error: unknown): string {
  const stderr = (error as { commandResult?: { stderr?: unknown } } | undefined)?.commandResult?.stderr;
  return typeof stderr === "string" && stderr !== "" ? stderr : String(error);
}

/** The one line for everything missing, e.g. "npm start needs the Pulumi CLI (...): ...; a running Docker engine (...): ...". */
export function missingToolsLine(command: string, problems: string[]): string {
  return `${command} needs ${problems.join("; and ")}. Install what is missing, then run ${command} again.`;
}

export interface Prerequisites {
  pulumi: PulumiCommand;
  dockerOs: string;
  dockerArchitecture: string;
}

/** Runs both probes (so one line names everything missing); throws MissingToolError with that line. */
export async function checkPrerequisites(command: string, probes: { pulumi: Probe<PulumiCommand>; docker: Probe<DockerEngineInfo> } = { pulumi: probePulumi, docker: dockerProbe() }): Promise<Prerequisites> {
  const [pulumi, docker] = await Promise.all([probes.pulumi(), probes.docker()]);
  const problems = [pulumi, docker].flatMap((result) => (result.ok ? [] : [result.problem]));
  if (!pulumi.ok || !docker.ok) throw new MissingToolError(missingToolsLine(command, problems));
  return { pulumi: pulumi.value, dockerOs: docker.value.operatingSystem, dockerArchitecture: docker.value.architecture };
}

/** The engine has this image (`docker image inspect` answers locally, never asking a registry). */
export async function imagePresent(image: string, run: Runner = runQuiet): Promise<boolean> {
  const result = await run("docker", ["image", "inspect", "--format", "{{.Id}}", image], 30_000);
  return !result.error && result.code === 0;
}

/**
 * Makes an image available: one present on the engine is used as it is (offline too; `docker pull`
 * would ask the registry even then), only a missing one is pulled. The problem names the image and what Docker said.
 */
export async function imageProblem(image: string, run: Runner = runQuiet, pullTimeoutMs = 15 * 60_000): Promise<string | undefined> {
  if (await imagePresent(image, run)) return undefined;
  const result = await run("docker", ["pull", image], pullTimeoutMs);
  if (result.error || result.code !== 0) return `the image ${image}, which is not on the Docker engine and cannot be pulled here (${firstLine(result.error ?? result.output) || `exit ${result.code}`})`;
  return undefined;
}
