import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { FRONT_DOOR_PATHS } from "../../components/frontDoor/image";
import { monitoringTool } from "./monitoringTools";
import { requireTool } from "./tools";

export const DOCKER_HINT = "apt-get install docker.io busybox-static, then start the engine (`dockerd &`); .ci/run does both";

/** A suffix for container, image and network names: other test runs share the Docker engine. */
export const uniqueSuffix = () => `${process.pid}-${randomBytes(3).toString("hex")}`;

/** Runs `docker <args>` (bounded) and returns stdout; throws with stderr on failure. */
export function docker(args: string[], timeoutMs = 120_000): string {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: timeoutMs });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${result.error?.message ?? ""}${result.stderr}`);
  return result.stdout;
}

/** Fails (never skips) unless a Docker engine answers and busybox-static is there for the stand-in images. */
export function requireDocker(): void {
  requireTool("docker", DOCKER_HINT, ["info"]);
  if (!fs.existsSync("/bin/busybox")) throw new Error(`/bin/busybox is missing. Install it: ${DOCKER_HINT}`);
}

/**
 * Builds the stand-in TF Serving base image (busybox, a fake tensorflow_model_server whose REST paths a
 * caddy of its own maps onto CGI scripts) as `tag` in workDir.
 */
export function buildStandinServingBase(workDir: string, tag: string): void {
  const context = path.join(workDir, "standin-serving");
  fs.cpSync(path.join(__dirname, "..", "fixtures", "standin-serving"), context, { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(context, "busybox"));
  fs.copyFileSync(monitoringTool("caddy"), path.join(context, "standin-caddy"));
  docker(["build", "-q", "-t", tag, context]);
}

/**
 * A stand-in for prom/prometheus: busybox plus the statically linked prometheus and promtool the tests
 * build at the default image's release, at the paths the official image uses.
 */
export function buildStandinPrometheus(workDir: string, tag: string): void {
  buildBusyboxImage(path.join(workDir, "standin-prometheus"), tag, {
    files: { prometheus: monitoringTool("prometheus"), promtool: monitoringTool("promtool") },
    lines: ["COPY prometheus promtool /bin/", "RUN mkdir -p /etc/prometheus /prometheus", 'ENTRYPOINT ["/bin/prometheus"]'],
  });
}

/**
 * A stand-in for the official caddy image (Alpine-based, so it has a shell and cp): busybox and the statically
 * linked caddy the tests build, where that image keeps it.
 */
export function buildStandinCaddy(workDir: string, tag: string): void {
  buildBusyboxImage(path.join(workDir, "standin-caddy"), tag, {
    files: { caddy: monitoringTool("caddy") },
    lines: ["RUN mkdir -m 1777 /tmp", `COPY caddy ${FRONT_DOOR_PATHS.caddyInImage}`],
  });
}

/**
 * Builds `tag` in `context` FROM scratch with busybox's applets in /bin, then `lines` (Dockerfile
 * instructions); `files` are copied into the context first, by name: a path to copy, or the text to write.
 */
export function buildBusyboxImage(context: string, tag: string, { files = {}, lines }: { files?: Record<string, string | { text: string }>; lines: string[] }): void {
  fs.mkdirSync(context, { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(context, "busybox"));
  for (const [name, source] of Object.entries(files)) {
    if (typeof source === "string") fs.copyFileSync(source, path.join(context, name));
    else fs.writeFileSync(path.join(context, name), source.text);
  }
  const dockerfile = ["FROM scratch", "COPY busybox /bin/busybox", 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', ...lines, ""];
  fs.writeFileSync(path.join(context, "Dockerfile"), dockerfile.join("\n"));
  docker(["build", "-q", "-t", tag, context]);
}

/** The host port Docker picked for a container port published as `127.0.0.1::<port>`. */
export function publishedPort(container: string, port: number): number {
  const mapping = docker(["port", container, `${port}/tcp`]).trim().split("\n")[0];
  return Number(mapping.slice(mapping.lastIndexOf(":") + 1));
}

export interface ContainerState {
  running: boolean;
  exitCode: number;
}

export function containerState(container: string): ContainerState {
  const [running, exitCode] = docker(["inspect", container, "--format", "{{.State.Running}} {{.State.ExitCode}}"]).trim().split(" ");
  return { running: running === "true", exitCode: Number(exitCode) };
}

/** Everything a container printed, stdout and stderr (the entrypoint reports to stderr). */
export function containerLogs(container: string): string {
  const result = spawnSync("docker", ["logs", container], { encoding: "utf8", timeout: 30_000 });
  return `${result.stdout}${result.stderr}`;
}
