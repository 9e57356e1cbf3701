import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { monitoringTool } from "./monitoringTools";
import { promtool } from "./promtool";

/** A port that was free a moment ago on 127.0.0.1 (Prometheus cannot be told to pick one itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value, failing after `timeoutMs` with the last problem seen. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "no result";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await sleep(everyMs);
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface AlertState {
  name: string;
  state: "pending" | "firing";
  labels: Record<string, string>;
}

export interface PrometheusServer {
  url: string;
  /** Instant query; every sample of the vector (or the scalar as one unlabelled sample). */
  query(expr: string, time?: number): Promise<Sample[]>;
  alerts(): Promise<AlertState[]>;
  targets(): Promise<{ job: string; health: string; scrapeUrl: string; lastError: string }[]>;
  stop(): Promise<void>;
}

/** Kills every Prometheus started here that a test forgot to stop, even when the test run is aborted. */
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

/**
 * Prometheus of the default image's release on 127.0.0.1:`port` (from freePort, so the config can name it
 * as the self-scrape target) with a TSDB under `dataDir`, ready-gated. Fails (never skips) when the binary is missing.
 */
export async function startPrometheus(port: number, configFile: string, dataDir: string): Promise<PrometheusServer> {
  const prometheus = monitoringTool("prometheus");
  const check = promtool("check", "config", configFile);
  if (check.status !== 0) throw new Error(`promtool rejects ${configFile}:\n${check.output}`);

  const url = `http://127.0.0.1:${port}`;
  const storage = path.join(dataDir, "tsdb");
  fs.mkdirSync(storage, { recursive: true });
  const child = spawn(
    prometheus,
    [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${storage}`, "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
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

  const api = async <T>(apiPath: string): Promise<T> => {
    const response = await fetch(`${url}${apiPath}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`${apiPath}: ${body.error ?? response.status}`);
    return body.data;
  };

  try {
    await waitFor("Prometheus to be ready", 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? true : undefined;
    }, 200);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nprometheus log:\n${log}`);
  }

  return {
    url,
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) });
      const data = await api<{ resultType: string; result: unknown }>(`/api/v1/query?${params}`);
      if (data.resultType === "scalar") return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
    },
    async alerts() {
      const data = await api<{ alerts: { labels: Record<string, string>; state: AlertState["state"] }[] }>("/api/v1/alerts");
      return data.alerts.map(({ labels, state }) => ({ name: labels.alertname, state, labels }));
    },
    async targets() {
      const data = await api<{ activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string; lastError: string }[] }>("/api/v1/targets?state=active");
      return data.activeTargets.map((target) => ({ job: target.labels.job, health: target.health, scrapeUrl: target.scrapeUrl, lastError: target.lastError }));
    },
    stop,
  };
}
