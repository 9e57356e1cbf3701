/**
 * Whether the local serving container can still become ready: the readiness gate asks the Docker CLI
 * between polls, so a container that exited or is crash-looping (TF Serving without AVX under amd64
 * emulation, a bad model path) fails `pulumi up` within seconds, quoting its last log lines, instead
 * of after readinessTimeoutSeconds.
 */
import { execFile } from "node:child_process";

/** What the gate decides on, read from `docker container inspect`. */
export interface ContainerSnapshot {
  /** created, running, paused, restarting, removing, exited or dead. */
  status: string;
  exitCode: number;
  /** Restarts by the restart policy since the container was created. */
  restartCount: number;
  oomKilled: boolean;
  /** Docker's own error, e.g. when the entrypoint could not be started. */
  error: string;
}

/** How many log lines a failure quotes. */
export const LOG_TAIL_LINES = 20;

/** Reads `docker container inspect --format '{{json .}}'` output. */
export function parseInspect(json: string): ContainerSnapshot {
  const inspected = JSON.parse(json) as {
    RestartCount?: number;
    State?: { Status?: string; ExitCode?: number; OOMKilled?: boolean; Error?: string };
  };
  return {
    status: inspected.State?.Status ?? "unknown",
    exitCode: inspected.State?.ExitCode ?? 0,
    restartCount: inspected.RestartCount ?? 0,
    oomKilled: inspected.State?.OOMKilled ?? false,
    error: inspected.State?.Error ?? "",
  };
}

/**
 * Why the container will not serve, or undefined while it still may (created, running, paused). A restart
 * counts as a failure: the gate runs right after the container was created, so any restart is a crash.
 */
export function containerFailure(containerName: string, snapshot: ContainerSnapshot, logTail: string): string | undefined {
  const exitCode = `exit code ${snapshot.exitCode}${snapshot.oomKilled ? ", killed for lack of memory" : ""}`;
  let what: string;
  if (snapshot.status === "exited" || snapshot.status === "dead") what = `has exited (${exitCode})`;
  else if (snapshot.status === "restarting" || snapshot.restartCount > 0) {
    // Between restarts a running container's exit code reads 0 again: it is the last one only while restarting.
    const last = snapshot.status === "restarting" ? `, last ${exitCode}` : "";
    what = `is crash-looping (restarted ${snapshot.restartCount} time${snapshot.restartCount === 1 ? "" : "s"}${last})`;
  } else return undefined;

  const lines = logTail.trimEnd();
  const quoted = lines ? `Its last log lines:\n${lines.split("\n").map((line) => `  | ${line}`).join("\n")}` : "It logged nothing.";
  const dockerError = snapshot.error ? ` Docker says: ${snapshot.error}.` : "";
  // TF Serving's binary needs AVX; some amd64 emulators (QEMU) do not provide it.
  const avx = /\bAVX\b/.test(logTail)
    ? "\nTF Serving's binary needs AVX instructions, which this engine's amd64 emulation does not provide; " +
      'see the README\'s "Apple Silicon" (Rosetta emulation, or another image through tfserving-platform:tfServingImage).'
    : "";
  return `The serving container ${containerName} ${what}, so the model will not become AVAILABLE.${dockerError} ${quoted}${avx}`;
}

/**
 * `docker logs --timestamps` output of both streams (TF Serving logs to stderr, the entrypoint to both), in
 * the order the lines were written and without the timestamps. Equal timestamps keep stdout first.
 */
export function mergeTimestampedLogs(stdout: string, stderr: string): string {
  const lines = [stdout, stderr].flatMap((stream) =>
    stream
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const space = line.indexOf(" ");
        const time = Date.parse(line.slice(0, space));
        return Number.isNaN(time) ? { time: 0, text: line } : { time, text: line.slice(space + 1) };
      }),
  );
  return lines
    .sort((a, b) => a.time - b.time)
    .map((line) => `${line.text}\n`)
    .join("");
}

/** Runs `docker <args>` (bounded); resolves with stdout and stderr, rejects when it cannot run or fails. */
export type DockerCli = (args: string[]) => Promise<{ stdout: string; stderr: string }>;

/**
 * The Docker CLI with this process's environment: the engine's DOCKER_HOST (or the one the command
 * resource sets from `docker:host`) reaches the same engine the provider created the container on.
 */
export const dockerCli: DockerCli = (args) =>
  new Promise((resolve, reject) => {
    execFile("docker", args, { encoding: "utf8", timeout: 15_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(error) : resolve({ stdout, stderr }),
    );
  });

/**
 * A check for the gate: the failure message once the container has exited or is restarting, undefined
 * otherwise. When the CLI cannot answer (not installed, another engine), the gate just keeps polling.
 */
export function containerCheck(containerName: string, docker: DockerCli = dockerCli): () => Promise<string | undefined> {
  return async () => {
    let snapshot: ContainerSnapshot;
    try {
      snapshot = parseInspect((await docker(["container", "inspect", "--format", "{{json .}}", containerName])).stdout);
    } catch {
      return undefined;
    }
    if (containerFailure(containerName, snapshot, "") === undefined) return undefined;
    const logs = await docker(["logs", "--tail", String(LOG_TAIL_LINES), "--timestamps", containerName]).then(
      ({ stdout, stderr }) => mergeTimestampedLogs(stdout, stderr),
      (error: Error) => `(docker logs failed: ${error.message})`,
    );
    return containerFailure(containerName, snapshot, logs);
  };
}
