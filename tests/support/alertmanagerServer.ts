import * as fs from "node:fs";
import * as path from "node:path";
import { monitoringTool } from "./monitoringTools";
import { amtool } from "./promtool";
import { startServerProcess } from "./serverProcess";

export interface AlertmanagerAlert {
  name: string;
  labels: Record<string, string>;
  /** `active`, `suppressed` (silenced or inhibited) or `unprocessed`. */
  state: string;
  inhibitedBy: string[];
}

export interface AlertmanagerServer {
  url: string;
  alerts(): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

/**
 * Alertmanager of the default image's release on 127.0.0.1:`port` with its state under `dataDir`,
 * clustering off (it would listen on every interface), ready-gated. Fails (never skips) when the binary is missing.
 */
export async function startAlertmanager(port: number, configFile: string, dataDir: string): Promise<AlertmanagerServer> {
  const alertmanager = monitoringTool("alertmanager");
  const check = amtool("check-config", configFile);
  if (check.status !== 0) throw new Error(`amtool rejects ${configFile}:\n${check.output}`);

  const url = `http://127.0.0.1:${port}`;
  const storage = path.join(dataDir, "alertmanager");
  fs.mkdirSync(storage, { recursive: true });
  const server = await startServerProcess(
    "alertmanager",
    alertmanager,
    [`--config.file=${configFile}`, `--storage.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=warn"],
    `${url}/-/ready`,
  );
  return {
    url,
    async alerts() {
      const response = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`/api/v2/alerts: ${response.status}`);
      const alerts = (await response.json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];
      return alerts.map(({ labels, status }) => ({ name: labels.alertname, labels, state: status.state, inhibitedBy: status.inhibitedBy }));
    },
    stop: server.stop,
  };
}
