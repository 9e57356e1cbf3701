import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DOCKER_HINT } from "./docker";
import { requireTool } from "./tools";

/** A second Docker engine of the test's own, on a unix socket in a temporary folder. */
export interface ScratchDockerd {
  dir: string;
  socket: string;
  host: string;
  dataRoot: string;
  stop: () => Promise<void>;
}

/**
 * Starts `dockerd` with its own data root, exec root (so its own containerd), pid file and socket,
 * its own bridge interface and no iptables or sysctl changes, so it leaves the machine's engine and
 * network alone. Never `--bridge none`: dockerd then DELETES the interface docker0, which the
 * machine's engine needs. Needs root, or passwordless sudo (a GitHub-hosted runner); the socket
 * then belongs to the group `docker`, as the machine's does. Waits (bounded) until it answers `docker info`.
 */
export async function startScratchDockerd(timeoutMs = 30_000): Promise<ScratchDockerd> {
  requireTool("dockerd", DOCKER_HINT, ["--version"]);
  const isRoot = process.getuid?.() === 0;
  const asRoot = (command: string, args: string[]): [string, string[]] => (isRoot ? [command, args] : ["sudo", ["-n", command, ...args]]);
  const runAsRoot = (command: string, args: string[]) => spawnSync(...asRoot(command, args), { encoding: "utf8", timeout: 30_000 });
  if (!isRoot && runAsRoot("true", []).status !== 0) throw new Error("a second dockerd needs root: run the tests as root or with passwordless sudo (.ci/run's machines have one or the other)");
  // Short: a unix socket path is limited to about 100 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dd-"));
  const socket = path.join(dir, "docker.sock");
  const host = `unix://${socket}`;
  const dataRoot = path.join(dir, "data");
  // An interface name has at most 15 characters; a /24 in 10.213.0.0/16 stays clear of Docker's default pools.
  const bridge = `ddbr${process.pid % 100_000}`;
  const ip = (args: string[]) => runAsRoot("ip", args);
  ip(["link", "delete", bridge]);
  for (const args of [["link", "add", bridge, "type", "bridge"], ["addr", "add", `10.213.${process.pid % 250}.1/24`, "dev", bridge], ["link", "set", bridge, "up"]]) {
    const result = ip(args);
    if (result.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${result.error?.message ?? result.stderr} (needs root and iproute2: apt-get install iproute2; .ci/run installs it)`);
  }
  const log = fs.openSync(path.join(dir, "dockerd.log"), "w");
  const daemon = spawn(
    ...asRoot("dockerd", [
      "--data-root", dataRoot,
      "--exec-root", path.join(dir, "exec"),
      "--pidfile", path.join(dir, "dockerd.pid"),
      "--host", host,
      "--bridge", bridge,
      "--iptables=false",
      "--ip6tables=false",
      "--ip-forward=false",
      "--ip-masq=false",
      "--storage-driver", "vfs",
    ]),
    { stdio: ["ignore", log, log] },
  );
  const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    // sudo relays SIGTERM to dockerd but cannot relay SIGKILL: kill by the daemon's pid file.
    if (daemon.exitCode === null && daemon.signalCode === null) runAsRoot("sh", ["-c", `kill -9 "$(cat '${path.join(dir, "dockerd.pid")}')"`]);
    fs.closeSync(log);
    ip(["link", "delete", bridge]);
    // dockerd's files belong to root.
    runAsRoot("rm", ["-rf", dir]);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) break;
    const info = spawnSync("docker", ["info", "--format", "{{.ID}}"], { env: { ...process.env, DOCKER_HOST: host }, encoding: "utf8", timeout: 5000 });
    if (info.status === 0) return { dir, socket, host, dataRoot, stop };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const text = fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").trim().split("\n").slice(-5).join("\n");
  await stop();
  throw new Error(`the scratch dockerd did not answer within ${timeoutMs} ms:\n${text}`);
}
