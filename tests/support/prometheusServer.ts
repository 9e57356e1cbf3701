import * as fs from "node:fs";
import * as path from "node:path";
import { monitoringTool } from "./monitoringTools";
import { promtool } from "./promtool";
import { startServerProcess } from "./serverProcess";

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

/**
 * Prometheus of the default image's release on 127.0.0.1:`port` (from freePort, so the config can name it
 * as the self-scrape target) with a TSDB under `dataDir`, ready-gated. Fails (never skips) when the binary is missing.
 */
export async function startPrometheus(port: number, configFile: string, dataDir: string, extraArgs: string[] = []): Promise<PrometheusServer> {
  const prometheus = monitoringTool("prometheus");
  const check = promtool("check", "config", configFile);
  if (check.status !== 0) throw new Error(`promtool rejects ${configFile}:\n${check.output}`);

  const url = `http://127.0.0.1:${port}`;
  const storage = path.join(dataDir, "tsdb");
  fs.mkdirSync(storage, { recursive: true });
  const server = await startServerProcess(
    "prometheus",
    prometheus,
    [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${storage}`,
      "--log.level=warn",
      // Alerts fired before Alertmanager is discovered (up to 5s after start) are dropped and sent
      // again only after this delay, a minute by default: compressed like the rules' windows.
      "--rules.alert.resend-delay=1s",
      ...extraArgs,
    ],
    `${url}/-/ready`,
  );

  const api = async <T>(apiPath: string): Promise<T> => {
    const response = await fetch(`${url}${apiPath}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`${apiPath}: ${body.error ?? response.status}`);
    return body.data;
  };

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
    stop: server.stop,
  };
}
