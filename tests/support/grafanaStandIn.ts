/**
 * A stand-in for the few Grafana HTTP API calls the live test makes, shaped like Grafana's documented
 * answers: basic auth (or a service-account token as a bearer token) on every call (401 otherwise),
 * `GET /api/user`, `GET /api/dashboards/uid/<uid>`, `GET /api/datasources/uid/<uid>/health` (which, like
 * Grafana's, queries Prometheus), `POST /api/ds/query` (a Prometheus range query turned into data frames)
 * and `GET /api/annotations?tags=...` (annotations carrying every tag asked for, newest first).
 */
import { AddressInfo } from "node:net";
import { startJsonServer } from "./jsonServer";

export interface GrafanaStandInOptions {
  user: string;
  password: string;
  /** A service-account token it also accepts (an existing Grafana). */
  token?: string;
  /** Annotations in its store. */
  annotations?: { time: number; text: string; tags: string[] }[];
  /** Prometheus as the data source reaches it. */
  prometheusUrl: string;
  dataSourceUid: string;
  /** The dashboard model served at its uid. */
  dashboard: { uid: string; title: string };
  /** A misconfigured Grafana that lets anonymous users in (to prove the check catches it). */
  anonymous?: boolean;
}

export interface GrafanaStandIn {
  url: string;
  close(): Promise<void>;
}

const unauthorized = { extra: null, message: "Unauthorized", messageId: "auth.unauthorized", statusCode: 401, traceID: "" };

export async function startGrafanaStandIn(options: GrafanaStandInOptions): Promise<GrafanaStandIn> {
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString("base64")}`;
  const prometheus = async (apiPath: string) => {
    const response = await fetch(`${options.prometheusUrl}${apiPath}`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as { status: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] }; error?: string };
  };

  const server = await startJsonServer((request, body, send) => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const given = request.headers.authorization;
    const tokenMatches = options.token !== undefined && given === `Bearer ${options.token}`;
    if (given !== expected && !tokenMatches && !options.anonymous) return send(401, unauthorized);

    if (request.method === "GET" && url.pathname === "/api/user") {
      return send(200, { id: 1, email: "admin@localhost", name: "", login: options.user, theme: "", orgId: 1, isGrafanaAdmin: true, isDisabled: false, isExternal: false });
    }
    if (request.method === "GET" && url.pathname === `/api/dashboards/uid/${options.dashboard.uid}`) {
      return send(200, {
        meta: { type: "db", canSave: true, slug: options.dashboard.title.toLowerCase(), url: `/d/${options.dashboard.uid}`, folderUid: "tfserving", version: 1 },
        dashboard: { ...options.dashboard, id: 1, version: 1 },
      });
    }
    if (request.method === "GET" && url.pathname.startsWith("/api/dashboards/uid/")) return send(404, { message: "Dashboard not found" });
    if (request.method === "GET" && url.pathname === `/api/datasources/uid/${options.dataSourceUid}/health`) {
      prometheus(`/api/v1/query?query=1%2B1`).then(
        (answer) => (answer.status === "success" ? send(200, { status: "OK", message: "Successfully queried the Prometheus API." }) : send(400, { status: "ERROR", message: answer.error })),
        (error: Error) => send(400, { status: "ERROR", message: `Post "${options.prometheusUrl}/api/v1/query": ${error.message}` }),
      );
      return;
    }
    if (request.method === "GET" && url.pathname === "/api/annotations") {
      const tags = url.searchParams.getAll("tags");
      const found = (options.annotations ?? [])
        .filter((annotation) => tags.every((tag) => annotation.tags.includes(tag)))
        .sort((a, b) => b.time - a.time)
        .slice(0, Number(url.searchParams.get("limit") ?? 100))
        .map((annotation, index) => ({ id: index + 1, dashboardUID: "", panelId: 0, timeEnd: annotation.time, ...annotation }));
      return send(200, found);
    }
    if (request.method === "POST" && url.pathname === "/api/ds/query") {
      const { queries } = JSON.parse(body) as { queries: { refId: string; expr: string; intervalMs: number }[] };
      const end = Math.floor(Date.now() / 1000);
      Promise.all(
        queries.map(async (query) => {
          const params = new URLSearchParams({ query: query.expr, start: String(end - 300), end: String(end), step: String(query.intervalMs / 1000) });
          const answer = await prometheus(`/api/v1/query_range?${params}`);
          if (answer.status !== "success") return [query.refId, { status: 400, error: answer.error }] as const;
          const frames = answer.data!.result.map((series) => ({
            schema: {
              refId: query.refId,
              meta: { type: "timeseries-multi", typeVersion: [0, 1] },
              fields: [
                { name: "Time", type: "time", typeInfo: { frame: "time.Time" }, config: { interval: query.intervalMs } },
                { name: "Value", type: "number", typeInfo: { frame: "float64" }, labels: series.metric, config: {} },
              ],
            },
            data: { values: [series.values.map(([time]) => time * 1000), series.values.map(([, value]) => Number(value))] },
          }));
          return [query.refId, { status: 200, frames }] as const;
        }),
      ).then(
        (results) => send(200, { results: Object.fromEntries(results) }),
        (error: Error) => send(500, { message: error.message }),
      );
      return;
    }
    send(404, { message: "Not found" });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
