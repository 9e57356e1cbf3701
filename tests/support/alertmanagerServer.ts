import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, waitFor } from "./prometheusServer";
import { requireTool } from "./tools";

export interface AlertmanagerServer {
  /** `127.0.0.1:<port>`, as a Prometheus alerting target. */
  target: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

/** A real Alertmanager on a free 127.0.0.1 port, clustering off, ready-gated. Fails (never skips) when the binary is missing. */
export async function startAlertmanager(configFile: string, dataDir: string): Promise<AlertmanagerServer> {
  // Built from Go modules it is `alertmanager`; Debian's prometheus-alertmanager package names it after the package.
  const command = ["alertmanager", "prometheus-alertmanager"].find((name) => spawnSync(name, ["--version"]).status === 0) ?? "alertmanager";
  requireTool(command, "apt-get install prometheus-alertmanager, or go install github.com/prometheus/alertmanager/cmd/alertmanager");
  const port = await freePort();
  const storage = path.join(dataDir, "alertmanager");
  fs.mkdirSync(storage, { recursive: true });
  const child = spawn(
    command,
    [`--config.file=${configFile}`, `--storage.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      child.kill("SIGKILL");
    }
    running.delete(child);
  };
  try {
    await waitFor("Alertmanager to be ready", 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`alertmanager exited with ${child.exitCode}: ${log}`);
      const response = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? true : undefined;
    }, 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { target: `127.0.0.1:${port}`, stop };
}
