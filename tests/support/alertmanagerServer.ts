import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
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

export interface WebhookAlert {
  name: string;
  status: "firing" | "resolved";
  labels: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  /** Every alert of every notification received so far, in order. */
  received(): WebhookAlert[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records what Alertmanager delivers. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookAlert[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { alerts: { status: WebhookAlert["status"]; labels: Record<string, string> }[] };
      for (const { status, labels } of body.alerts) received.push({ name: labels.alertname, status, labels });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received: () => [...received],
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
