import { EDGE_METRICS_PATH, FrontDoorSpec, SCRAPE_KEY_ENV, apiKeyEnv, caddyConfig, renderCaddyConfig } from "../../components/frontDoor/caddyConfig";
import { caddyValidate } from "../support/caddy";

const SPEC: FrontDoorSpec = {
  modelName: "diabetes-prediction",
  listen: ":{env.PORT}",
  upstream: "127.0.0.1:18501",
  internalMetricsListen: "127.0.0.1:9096",
  consumers: ["team-a", "team-b"],
  statusOpen: true,
  maxRequestBodyBytes: 1024 * 1024,
  metricsPath: "/monitoring/prometheus/metrics",
  scrapeCredential: true,
  upstreamTimeoutMs: 30_000,
};

type Route = ReturnType<typeof caddyConfig>["apps"]["http"]["servers"][string]["routes"][number];
const routes = (spec: FrontDoorSpec) => caddyConfig(spec).apps.http.servers.door.routes;
const statusOf = (route: Route) => route.handle.map((handler) => ("status_code" in handler ? handler.status_code : handler.handler)).join(",");

describe("the front door's Caddy config", () => {
  it("names each consumer's key and the scrape credential by environment variable, never by value", () => {
    const text = renderCaddyConfig(SPEC);
    expect(apiKeyEnv("team-a")).toBe("FRONT_DOOR_KEY_TEAM_A");
    expect(text).toContain('"Bearer {env.FRONT_DOOR_KEY_TEAM_A}"');
    expect(text).toContain('"Bearer {env.FRONT_DOOR_KEY_TEAM_B}"');
    expect(text).toContain(`"Bearer {env.${SCRAPE_KEY_ENV}}"`);
    // Parsed back, it is the same object: JSON.stringify, not text with holes.
    expect(JSON.parse(text)).toEqual(caddyConfig(SPEC));
  });

  it("orders the routes: metrics for the scrape credential, open status, keyed model routes with a body cap, 401, then 404 for all else", () => {
    const door = routes(SPEC);
    expect(door.map(statusOf)).toEqual(["vars,reverse_proxy", "metrics", "reverse_proxy", "request_body,reverse_proxy", "401", "404"]);
    expect(door[0].match![0]).toMatchObject({ path: ["/monitoring/prometheus/metrics"], header: { Authorization: [`Bearer {env.${SCRAPE_KEY_ENV}}`] } });
    expect(door[1].match![0].path).toEqual([EDGE_METRICS_PATH]);
    expect(door[2].match![0]).toEqual({ method: ["GET"], path: ["/v1/models/diabetes-prediction"] });
    expect(door[3].handle[0]).toEqual({ handler: "request_body", max_size: 1024 * 1024 });
    // Only the served model's routes: no other name, no wildcard model.
    for (const pattern of door[3].match![0].path!) expect(pattern.startsWith("/v1/models/diabetes-prediction")).toBe(true);
    expect(door[5].match).toBeUndefined();
  });

  it("guards the status route too when modelStatusOpen is false", () => {
    const door = routes({ ...SPEC, statusOpen: false });
    expect(door.map(statusOf)).toEqual(["vars,reverse_proxy", "metrics", "request_body,reverse_proxy", "401", "404"]);
    expect(door[2].match![0].path).toContain("/v1/models/diabetes-prediction");
  });

  it("a public endpoint (no consumers) has no key check and no 401; the metrics stay closed without the scrape route", () => {
    const door = routes({ ...SPEC, consumers: [], scrapeCredential: false });
    expect(door.map(statusOf)).toEqual(["reverse_proxy", "request_body,reverse_proxy", "404"]);
    expect(door[1].match![0].header).toBeUndefined();
    expect(JSON.stringify(door)).not.toContain("/monitoring/");
  });

  it("leaves the upstream's deadline room: the door waits longer than TF Serving's --rest_api_timeout_in_ms", () => {
    const server = caddyConfig({ ...SPEC, upstreamTimeoutMs: 60_000 }).apps.http.servers.door;
    expect(server.write_timeout).toBe("90s");
    const proxy = server.routes[3].handle[1];
    expect(proxy).toMatchObject({ handler: "reverse_proxy", transport: { response_header_timeout: "65s" } });
  });

  it("refuses a model name that would not match literally", () => {
    expect(() => caddyConfig({ ...SPEC, modelName: "a*b" })).toThrow(/tfserving-platform:modelName/);
  });
});

describe("caddy validate accepts the rendered config (the real binary of the pinned image's release)", () => {
  it.each([
    ["keys, scrape credential, loopback metrics", SPEC],
    ["a public endpoint without metrics routes", { ...SPEC, consumers: [], scrapeCredential: false, internalMetricsListen: undefined }],
    ["a guarded status route", { ...SPEC, statusOpen: false }],
  ])("%s", (_name, spec) => {
    const result = caddyValidate(spec, { PORT: "8501" });
    expect(result.output).toMatch(/Valid configuration/);
    expect(result.status).toBe(0);
  });

  it("refuses to start without the PORT it listens on (so the check can fail)", () => {
    const result = caddyValidate(SPEC, { PORT: "" });
    expect(result.output).toMatch(/server door, listener 0/);
    expect(result.status).not.toBe(0);
  });
});
