/**
 * A small Alertmanager webhook receiver for the live test: it records the alerts POSTed to one
 * random path and nothing else. Alertmanager runs in a container, so the receiver listens where a
 * container can reach the host (see receiverAddress).
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { ReceivedAlert } from "./checks";

export interface WebhookReceiver {
  /** The URL Alertmanager posts to (its host as the container sees it). */
  url: string;
  received(): ReceivedAlert[];
  close(): Promise<void>;
}

/**
 * Where to listen and which host to give Alertmanager. Docker Desktop forwards
 * `host.docker.internal` to the host's loopback, so 127.0.0.1 is enough there. On a Linux engine a
 * container reaches the host at the default bridge's gateway (docker0, usually 172.17.0.1), so the
 * receiver listens on that address only, not on every interface.
 */
export function receiverAddress(dockerOs: string, bridgeGateway: string | undefined): { listenHost: string; urlHost: string } {
  if (/docker desktop/i.test(dockerOs)) return { listenHost: "127.0.0.1", urlHost: "host.docker.internal" };
  if (!bridgeGateway) throw new Error(`cannot find the address of Docker's default bridge, where containers reach this host (Docker engine: ${dockerOs || "unknown"})`);
  return { listenHost: bridgeGateway, urlHost: bridgeGateway };
}

/**
 * The default bridge's gateway from `docker network inspect bridge` JSON: its IPAM Gateway, or, when
 * the engine leaves that out (older engines do), the first address of its IPv4 subnet, which Docker gives docker0.
 */
export function bridgeGateway(inspectJson: string): string | undefined {
  const [network] = JSON.parse(inspectJson) as { IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] } }[];
  const configs = (network?.IPAM?.Config ?? []).filter((config) => config.Subnet && !config.Subnet.includes(":"));
  const explicit = configs.find((config) => config.Gateway)?.Gateway;
  if (explicit) return explicit;
  const subnet = configs[0]?.Subnet?.split("/")[0];
  if (!subnet) return undefined;
  const octets = subnet.split(".").map(Number);
  octets[3] += 1;
  return octets.join(".");
}

interface AlertmanagerPayload {
  alerts?: { status?: string; labels?: Record<string, string> }[];
}

export async function startWebhookReceiver(address: { listenHost: string; urlHost: string }): Promise<WebhookReceiver> {
  const secretPath = `/alerts/${randomBytes(12).toString("hex")}`;
  const alerts: ReceivedAlert[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1 << 20) request.destroy();
      else chunks.push(chunk);
    });
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== secretPath) {
        response.writeHead(404).end();
        return;
      }
      try {
        const payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AlertmanagerPayload;
        for (const alert of payload.alerts ?? []) alerts.push({ alertname: alert.labels?.alertname ?? "", status: alert.status ?? "" });
        response.writeHead(200).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address.listenHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = address.urlHost.includes(":") ? `[${address.urlHost}]` : address.urlHost;
  return {
    url: `http://${host}:${port}${secretPath}`,
    received: () => [...alerts],
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
