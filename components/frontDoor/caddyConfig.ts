/**
 * The front door's Caddy 2 configuration (its native JSON, as a typed object): it listens on the public
 * port, lets only the served model's routes through to TF Serving on an internal port, asks for an API key
 * on them, caps request bodies, and serves TF Serving's and its own metrics only to the scrape credential.
 * Keys are never in the config: it names environment variables (`{env.NAME}`), set from Pulumi secrets.
 */

/** The environment variable of a consumer's key, e.g. team-a -> FRONT_DOOR_KEY_TEAM_A. */
export function apiKeyEnv(consumer: string): string {
  return `FRONT_DOOR_KEY_${consumer.toUpperCase().replace(/-/g, "_")}`;
}

/** The scrape credential Prometheus sends (scrape mode); a generated secret. */
export const SCRAPE_KEY_ENV = "FRONT_DOOR_SCRAPE_KEY";

/** Where the front door serves Caddy's own metrics to the scrape credential, beside TF Serving's metrics path. */
export const EDGE_METRICS_PATH = "/monitoring/edge/metrics";

/** Caddy's own metrics on the loopback listener (push mode's agent). */
export const INTERNAL_METRICS_PATH = "/metrics";

/**
 * Caddy labels a route's metrics with its first handler's name. The scrape routes start with these, so
 * the edge's client traffic is every other route of the door (dashboards and alerts leave them out).
 */
export const SCRAPE_ROUTE_HANDLERS = ["vars", "metrics"] as const;

/** The server names, which Caddy's metrics carry as the `server` label. */
export const SERVER_NAMES = { door: "door", internal: "internal" } as const;

/** What clients send: the key goes in this header after the scheme. */
export const API_KEY_HEADER = "Authorization";
export const API_KEY_SCHEME = "Bearer";

export interface FrontDoorSpec {
  modelName: string;
  /** Addresses the door listens on, e.g. `:{env.PORT}` in the image, `127.0.0.1:<port>` in a test. */
  listen: string;
  /** TF Serving's REST address, `host:port`. */
  upstream: string;
  /** Loopback address for Caddy's own metrics (push mode's agent scrapes it); none to leave it out. */
  internalMetricsListen?: string;
  /** Consumers whose keys open the model's routes; empty: the routes are public (publicEndpoint). */
  consumers: string[];
  /** GET /v1/models/<name> without a key (health checks). */
  statusOpen: boolean;
  maxRequestBodyBytes: number;
  /** TF Serving's metrics path; served through the door, to the scrape credential only, when scrapeCredential is set. */
  metricsPath: string;
  scrapeCredential: boolean;
  /** TF Serving's own request deadline (--rest_api_timeout_in_ms, 30 s by default); the door waits a little longer. */
  upstreamTimeoutMs: number;
}

// The subset of Caddy's JSON schema this config uses (https://caddyserver.com/docs/json/).
type Duration = string;
interface HeaderMatch {
  [header: string]: string[];
}
interface Matcher {
  path?: string[];
  method?: string[];
  header?: HeaderMatch;
}
type Handler =
  | { handler: "reverse_proxy"; upstreams: { dial: string }[]; transport: { protocol: "http"; dial_timeout: Duration; response_header_timeout: Duration } }
  | { handler: "request_body"; max_size: number }
  | { handler: "static_response"; status_code: number; headers?: Record<string, string[]>; body?: string }
  | { handler: "metrics" }
  | { handler: "vars"; route: string };
interface Route {
  match?: Matcher[];
  handle: Handler[];
  terminal?: boolean;
}
interface Server {
  listen: string[];
  routes: Route[];
  read_header_timeout?: Duration;
  read_timeout?: Duration;
  write_timeout?: Duration;
  idle_timeout?: Duration;
  automatic_https: { disable: boolean };
}
export interface CaddyConfig {
  admin: { disabled: boolean; config: { persist: boolean } };
  logging: { logs: Record<string, { level: string }> };
  apps: { http: { metrics: Record<string, never>; servers: Record<string, Server> } };
}

const jsonError = (status: number, error: string, headers: Record<string, string[]> = {}): Handler => ({
  handler: "static_response",
  status_code: status,
  headers: { "Content-Type": ["application/json"], ...headers },
  body: JSON.stringify({ error }),
});

const bearer = (env: string) => `${API_KEY_SCHEME} {env.${env}}`;

/** The served model's routes of TF Serving's REST API (predict, classify, regress, metadata, per-version status). */
export function modelRoutes(modelName: string): string[] {
  const model = `/v1/models/${modelName}`;
  const calls = ["predict", "classify", "regress"];
  return [
    ...calls.map((call) => `${model}:${call}`),
    ...calls.map((call) => `${model}/versions/*:${call}`),
    ...calls.map((call) => `${model}/labels/*:${call}`),
    `${model}/metadata`,
    `${model}/versions/*/metadata`,
    `${model}/labels/*/metadata`,
    `${model}/versions/*`,
    `${model}/labels/*`,
  ];
}

function seconds(ms: number): Duration {
  return `${Math.ceil(ms / 1000)}s`;
}

export function caddyConfig(spec: FrontDoorSpec): CaddyConfig {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(spec.modelName)) throw new Error(`tfserving-platform:modelName: "${spec.modelName}" cannot be matched safely in a path`);
  const proxy: Handler = {
    handler: "reverse_proxy",
    upstreams: [{ dial: spec.upstream }],
    // TF Serving answers or times out within its own deadline; the door gives up a little later (502/504 at the edge).
    transport: { protocol: "http", dial_timeout: "3s", response_header_timeout: seconds(spec.upstreamTimeoutMs + 5000) },
  };
  const limited: Handler[] = [{ handler: "request_body", max_size: spec.maxRequestBodyBytes }, proxy];
  const keyed = spec.consumers.length > 0;
  const keyHeader: HeaderMatch = { [API_KEY_HEADER]: spec.consumers.map((consumer) => bearer(apiKeyEnv(consumer))) };
  const statusPath = `/v1/models/${spec.modelName}`;
  const guarded = [...modelRoutes(spec.modelName), ...(spec.statusOpen ? [] : [statusPath])];

  const routes: Route[] = [];
  if (spec.scrapeCredential) {
    const scraper: HeaderMatch = { [API_KEY_HEADER]: [bearer(SCRAPE_KEY_ENV)] };
    routes.push(
      { match: [{ method: ["GET"], path: [spec.metricsPath], header: scraper }], handle: [{ handler: "vars", route: "scrape" }, proxy], terminal: true },
      { match: [{ method: ["GET"], path: [EDGE_METRICS_PATH], header: scraper }], handle: [{ handler: "metrics" }], terminal: true },
    );
  }
  if (spec.statusOpen) routes.push({ match: [{ method: ["GET"], path: [statusPath] }], handle: [proxy], terminal: true });
  routes.push({ match: [{ path: guarded, ...(keyed ? { header: keyHeader } : {}) }], handle: limited, terminal: true });
  if (keyed) {
    routes.push({
      match: [{ path: guarded }],
      handle: [jsonError(401, `missing or unknown API key: send the header "${API_KEY_HEADER}: ${API_KEY_SCHEME} <key>"`, { "WWW-Authenticate": [API_KEY_SCHEME] })],
      terminal: true,
    });
  }
  // Other models, other routes and the metrics paths without the scrape credential look alike: not found.
  routes.push({ handle: [jsonError(404, "not found")] });

  const servers: Record<string, Server> = {
    [SERVER_NAMES.door]: {
      listen: [spec.listen],
      routes,
      read_header_timeout: "10s",
      // A 1 MiB body at a slow client's pace, and the upstream's deadline plus the answer.
      read_timeout: "30s",
      write_timeout: seconds(spec.upstreamTimeoutMs + 30_000),
      idle_timeout: "2m",
      automatic_https: { disable: true },
    },
  };
  if (spec.internalMetricsListen) {
    servers[SERVER_NAMES.internal] = {
      listen: [spec.internalMetricsListen],
      routes: [{ match: [{ path: [INTERNAL_METRICS_PATH] }], handle: [{ handler: "metrics" }], terminal: true }, { handle: [jsonError(404, "not found")] }],
      automatic_https: { disable: true },
    };
  }
  return {
    // No admin API: the config is fixed at build time, and nothing may reconfigure the door at runtime;
    // nor is it saved anywhere at startup.
    admin: { disabled: true, config: { persist: false } },
    // Errors and startup only; no access log (it would carry clients' addresses, and is what metrics count anyway).
    logging: { logs: { default: { level: "WARN" } } },
    apps: { http: { metrics: {}, servers } },
  };
}

export function renderCaddyConfig(spec: FrontDoorSpec): string {
  return JSON.stringify(caddyConfig(spec), null, 2) + "\n";
}
