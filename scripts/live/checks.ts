/**
 * The live test's checks of a deployed stack, from the outside. Each takes URLs and credentials only,
 * so the same function runs against a real `pulumi up` and, in `npm test`, against a real Prometheus,
 * Alertmanager and the TF Serving simulator. Each returns a one-line finding or throws saying what is wrong.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { apiKeyHeaders, predict } from "../../components/serving/predict";
import { SamplePrediction } from "../../components/serving/samplePredictions";
import { DiabetesRow } from "../../components/serving/tfExample";

/** Our Grafana's admin login, or an existing Grafana's service-account token. */
export type GrafanaAuth = { user: string; password: string } | { token: string };

/** Polls `check` until it returns a value, failing after `timeoutMs` with the last problem it reported. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T>, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() + everyMs > deadline) throw new Error(`${what}: ${(error as Error).message} (still so after ${Math.round(timeoutMs / 1000)}s)`);
    }
    await sleep(everyMs);
  }
}

async function getJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    throw new Error(`${init.method ?? "GET"} ${url} answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, body };
}

// ---------------------------------------------------------------- TF Serving

/** Every version TF Serving reports for the model is AVAILABLE (polls while it loads). */
export async function checkModelAvailable(servingUrl: string, modelName: string, timeoutMs = 60_000, apiKey?: string): Promise<string> {
  const url = `${servingUrl.replace(/\/+$/, "")}/v1/models/${modelName}`;
  return eventually(`model ${modelName} AVAILABLE at ${url}`, timeoutMs, async () => {
    const { status, body } = await getJson<{ model_version_status?: { version: string; state: string }[] }>(url, { headers: apiKeyHeaders(apiKey) });
    const versions = body.model_version_status ?? [];
    if (status !== 200 || versions.length === 0 || versions.some((version) => version.state !== "AVAILABLE")) {
      throw new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`);
    }
    return `version ${versions.map((version) => version.version).join(", ")} AVAILABLE`;
  });
}

/** Each row, sent as a tf.Example through the project's predict client, returns its expected probability within `tolerance`. */
export async function checkPredictions(servingUrl: string, modelName: string, expected: SamplePrediction[], tolerance = 1e-5, apiKey?: string): Promise<string> {
  if (expected.length === 0) throw new Error("no expected predictions to check against");
  const wrong: string[] = [];
  for (const [index, { row, probability }] of expected.entries()) {
    const answer = await predict(servingUrl, modelName, row, { apiKey });
    if (!(Math.abs(answer.probability - probability) <= tolerance)) wrong.push(`row ${index}: got ${answer.probability}, expected ${probability}`);
  }
  if (wrong.length > 0) throw new Error(`${wrong.length} of ${expected.length} predictions differ by more than ${tolerance}: ${wrong.join("; ")}`);
  return `${expected.length} predictions within ${tolerance} of the bundled model's`;
}

/** A predict body TF Serving cannot parse: the JSON is cut short, as a broken client would send it. */
export const MALFORMED_PREDICT_BODY = '{"instances": [{"b64": ';

export interface TrafficSent {
  ok: number;
  invalidArgument: number;
}

/**
 * Sends `valid` predictions (rows in turn) and `malformed` unparseable ones, one at a time; every valid
 * one must succeed and every malformed one must be refused with HTTP 400 (INVALID_ARGUMENT).
 */
export async function sendTraffic(
  servingUrl: string,
  modelName: string,
  rows: DiabetesRow[],
  plan: { valid: number; malformed: number },
  apiKey?: string,
): Promise<TrafficSent> {
  const predictUrl = `${servingUrl.replace(/\/+$/, "")}/v1/models/${modelName}:predict`;
  for (let i = 0; i < plan.valid; i++) await predict(servingUrl, modelName, rows[i % rows.length], { apiKey });
  for (let i = 0; i < plan.malformed; i++) {
    const response = await fetch(predictUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...apiKeyHeaders(apiKey) },
      body: MALFORMED_PREDICT_BODY,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 400) throw new Error(`a malformed predict got HTTP ${response.status} (${text.slice(0, 200)}); TF Serving answers INVALID_ARGUMENT with 400`);
  }
  return { ok: plan.valid, invalidArgument: plan.malformed };
}

/**
 * `:tensorflow:serving:request_count` of one model by status, read from TF Serving's own metrics endpoint
 * (through the front door with the metrics credential in scrape mode).
 */
export async function servedRequestCounts(metricsUrl: string, modelName: string, credential?: string): Promise<Record<string, number>> {
  const response = await fetch(metricsUrl, { headers: apiKeyHeaders(credential), signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${metricsUrl} answered HTTP ${response.status}`);
  return parseRequestCounts(await response.text(), modelName);
}

export function parseRequestCounts(exposition: string, modelName: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of exposition.split("\n")) {
    const match = /^:tensorflow:serving:request_count\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]));
    if (labels.model_name === modelName) counts[labels.status] = (counts[labels.status] ?? 0) + Number(match[2]);
  }
  return counts;
}

/** TF Serving counted exactly the traffic sent: the OK and INVALID_ARGUMENT counters moved by what was sent, nothing else moved. */
export function checkServedCounts(before: Record<string, number>, after: Record<string, number>, sent: TrafficSent): string {
  const expected: Record<string, number> = { OK: sent.ok, INVALID_ARGUMENT: sent.invalidArgument };
  const statuses = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(expected)]);
  const wrong = [...statuses].flatMap((status) => {
    const delta = (after[status] ?? 0) - (before[status] ?? 0);
    return delta === (expected[status] ?? 0) ? [] : [`${status} moved by ${delta}, expected ${expected[status] ?? 0}`];
  });
  if (wrong.length > 0) throw new Error(`TF Serving's request_count does not match the traffic sent: ${wrong.join("; ")}`);
  return `request_count moved by ${sent.ok} OK and ${sent.invalidArgument} INVALID_ARGUMENT, as sent`;
}

// ---------------------------------------------------------------- Prometheus

interface PrometheusAnswer<T> {
  status: string;
  data: T;
  error?: string;
}

async function prometheusApi<T>(prometheusUrl: string, apiPath: string): Promise<T> {
  const { body } = await getJson<PrometheusAnswer<T>>(`${prometheusUrl.replace(/\/+$/, "")}${apiPath}`);
  if (body.status !== "success") throw new Error(`Prometheus ${apiPath}: ${body.error ?? body.status}`);
  return body.data;
}

export async function instantQuery(prometheusUrl: string, expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const data = await prometheusApi<{ resultType: string; result: unknown }>(prometheusUrl, `/api/v1/query?${new URLSearchParams({ query: expr })}`);
  if (data.resultType === "scalar") return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
  return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}

/** The scrape job has targets, all `up` with an empty lastError. */
export async function checkScrapeTarget(prometheusUrl: string, jobName: string, timeoutMs = 30_000): Promise<string> {
  return eventually(`Prometheus target of job ${jobName}`, timeoutMs, async () => {
    const data = await prometheusApi<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[] }>(
      prometheusUrl,
      "/api/v1/targets?state=active",
    );
    const targets = data.activeTargets.filter((target) => target.labels.job === jobName);
    if (targets.length === 0) throw new Error(`no active target; jobs: ${[...new Set(data.activeTargets.map((target) => target.labels.job))].join(", ") || "none"}`);
    const bad = targets.filter((target) => target.health !== "up" || target.lastError !== "");
    if (bad.length > 0) throw new Error(bad.map((target) => `${target.scrapeUrl} is ${target.health}: ${target.lastError || "no error text"}`).join("; "));
    return `${targets.map((target) => target.scrapeUrl).join(", ")} up, no scrape error`;
  });
}

export interface PanelQuery {
  /** `<panel title> <refId>`. */
  key: string;
  expr: string;
}

/** Every query of every panel of a dashboard model (Grafana's JSON), keyed by panel title and refId. */
export function dashboardQueries(dashboardModel: { panels?: { title: string; targets?: { refId: string; expr?: string }[] }[] }): PanelQuery[] {
  return (dashboardModel.panels ?? []).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) => (target.expr ? [{ key: `${panel.title} ${target.refId}`, expr: target.expr }] : [])),
  );
}

/** Every query returns at least one sample now (the SLO row's need a scrape and two rule evaluations after traffic). */
export async function checkDashboardQueries(prometheusUrl: string, queries: PanelQuery[], timeoutMs = 60_000): Promise<string> {
  if (queries.length === 0) throw new Error("the dashboard has no queries");
  return eventually("every dashboard query to return data", timeoutMs, async () => {
    const empty: string[] = [];
    for (const query of queries) if ((await instantQuery(prometheusUrl, query.expr)).length === 0) empty.push(`${query.key}: ${query.expr}`);
    if (empty.length > 0) throw new Error(`${empty.length} of ${queries.length} queries return no data: ${empty.join(" | ")}`);
    return `${queries.length} queries return data`;
  });
}

/**
 * Prometheus's `request_count` by status equals `expected` (what TF Serving's endpoint says) within
 * `withinMs`, i.e. one scrape interval plus the scrape itself.
 */
export async function checkPrometheusCounts(prometheusUrl: string, modelName: string, expected: Record<string, number>, withinMs: number): Promise<string> {
  const expr = `sum by (status) (:tensorflow:serving:request_count{model_name=${JSON.stringify(modelName)}})`;
  return eventually(`Prometheus to show TF Serving's request counts`, withinMs, async () => {
    const samples = await instantQuery(prometheusUrl, expr);
    const seen = Object.fromEntries(samples.map((sample) => [sample.metric.status, sample.value]));
    const wrong = Object.entries(expected).filter(([status, count]) => seen[status] !== count);
    if (wrong.length > 0) throw new Error(wrong.map(([status, count]) => `${status}: Prometheus has ${seen[status] ?? "nothing"}, TF Serving counted ${count}`).join("; "));
    return `Prometheus shows ${Object.entries(expected).map(([status, count]) => `${count} ${status}`).join(", ")}`;
  }, 250);
}

// ---------------------------------------------------------------- alerts

export interface ReceivedAlert {
  alertname: string;
  status: string;
}

/** An alert with this name reached the webhook receiver. */
export async function checkAlertReceived(received: () => ReceivedAlert[], alertname: string, timeoutMs: number): Promise<string> {
  return eventually(`${alertname} to reach the webhook`, timeoutMs, async () => {
    const alerts = received();
    const found = alerts.find((alert) => alert.alertname === alertname && alert.status === "firing");
    if (!found) throw new Error(`received ${alerts.length === 0 ? "nothing" : alerts.map((alert) => `${alert.alertname} (${alert.status})`).join(", ")}`);
    return `${alertname} (firing) delivered to the webhook`;
  }, 1000);
}

// ---------------------------------------------------------------- Grafana

const authorization = (auth: GrafanaAuth) =>
  "token" in auth ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
const grafanaGet = <T>(grafanaUrl: string, apiPath: string, auth?: GrafanaAuth) =>
  getJson<T>(`${grafanaUrl.replace(/\/+$/, "")}${apiPath}`, auth ? { headers: { authorization: authorization(auth) } } : {});

/** The admin password logs in (`/api/user` names the user) and a wrong one does not. */
export async function checkGrafanaLogin(grafanaUrl: string, auth: { user: string; password: string }): Promise<string> {
  const { status, body } = await grafanaGet<{ login?: string; message?: string }>(grafanaUrl, "/api/user", auth);
  if (status !== 200 || body.login !== auth.user) throw new Error(`login as ${auth.user} failed: HTTP ${status} ${body.message ?? ""}`.trim());
  const wrong = await grafanaGet<unknown>(grafanaUrl, "/api/user", { user: auth.user, password: `${auth.password}-wrong` });
  if (wrong.status !== 401) throw new Error(`a wrong password got HTTP ${wrong.status}, not 401`);
  return `${auth.user} logs in; a wrong password gets 401`;
}

/** Without credentials, the API refuses (401) to show the user or the dashboard. */
export async function checkAnonymousRefused(grafanaUrl: string, dashboardUid: string): Promise<string> {
  for (const apiPath of ["/api/user", `/api/dashboards/uid/${dashboardUid}`]) {
    const { status } = await grafanaGet<unknown>(grafanaUrl, apiPath);
    if (status !== 401) throw new Error(`anonymous GET ${apiPath} got HTTP ${status}, not 401`);
  }
  return "anonymous requests get 401";
}

/** Grafana's own health check of the data source (it queries Prometheus from Grafana's server). */
export async function checkDataSourceHealth(grafanaUrl: string, auth: GrafanaAuth, dataSourceUid: string): Promise<string> {
  const { status, body } = await grafanaGet<{ status?: string; message?: string }>(grafanaUrl, `/api/datasources/uid/${dataSourceUid}/health`, auth);
  if (status !== 200 || body.status !== "OK") throw new Error(`data source ${dataSourceUid} health: HTTP ${status} ${body.status ?? ""} ${body.message ?? ""}`.trim());
  return `data source ${dataSourceUid}: ${body.message ?? "OK"}`;
}

/** The dashboard fetched by uid has every expected panel title. */
export async function checkDashboardPanels(grafanaUrl: string, auth: GrafanaAuth, dashboardUid: string, titles: string[]): Promise<string> {
  const { status, body } = await grafanaGet<{ dashboard?: { panels?: { title: string }[] }; message?: string }>(grafanaUrl, `/api/dashboards/uid/${dashboardUid}`, auth);
  if (status !== 200 || !body.dashboard) throw new Error(`dashboard ${dashboardUid}: HTTP ${status} ${body.message ?? ""}`.trim());
  const present = new Set((body.dashboard.panels ?? []).map((panel) => panel.title));
  const missing = titles.filter((title) => !present.has(title));
  if (missing.length > 0) throw new Error(`dashboard ${dashboardUid} lacks the panels ${missing.join(", ")}`);
  return `dashboard ${dashboardUid} has all ${titles.length} panels`;
}

/** The dashboard's "Deploys" query finds this deploy's marker: an annotation tagged deploy and the model, naming the version. */
export async function checkDeployMarker(grafanaUrl: string, auth: GrafanaAuth, tags: string[], version: string): Promise<string> {
  const query = new URLSearchParams([...tags.map((tag): [string, string] => ["tags", tag]), ["type", "annotation"], ["limit", "100"]]);
  const { status, body } = await grafanaGet<{ text?: string; time?: number }[] | { message?: string }>(grafanaUrl, `/api/annotations?${query}`, auth);
  if (status !== 200 || !Array.isArray(body)) throw new Error(`annotations tagged ${tags.join(", ")}: HTTP ${status} ${(body as { message?: string }).message ?? ""}`.trim());
  const marker = body.find((annotation) => (annotation.text ?? "").includes(` version ${version} `));
  if (!marker) throw new Error(`none of ${body.length} annotation(s) tagged ${tags.join(", ")} marks version ${version}`);
  return `deploy marker: ${marker.text}`;
}

interface DataFrameJson {
  data?: { values?: unknown[][] };
}

/** `/api/ds/query` of one panel query over the last 5 minutes returns at least one data frame with values. */
export async function checkPanelQuery(grafanaUrl: string, auth: GrafanaAuth, dataSource: { uid: string; type: string }, query: PanelQuery): Promise<string> {
  const { status, body } = await getJson<{ results?: Record<string, { status?: number; error?: string; frames?: DataFrameJson[] }>; message?: string }>(
    `${grafanaUrl.replace(/\/+$/, "")}/api/ds/query`,
    {
      method: "POST",
      headers: { authorization: authorization(auth), "content-type": "application/json" },
      body: JSON.stringify({
        queries: [{ refId: "A", datasource: dataSource, expr: query.expr, range: true, instant: false, intervalMs: 15_000, maxDataPoints: 100 }],
        from: "now-5m",
        to: "now",
      }),
    },
  );
  const result = body.results?.A;
  if (status !== 200 || !result || result.error) throw new Error(`/api/ds/query for ${query.key}: HTTP ${status} ${result?.error ?? body.message ?? ""}`.trim());
  const frames = (result.frames ?? []).filter((frame) => (frame.data?.values ?? []).some((column) => column.length > 0));
  if (frames.length === 0) throw new Error(`/api/ds/query for ${query.key} returned no data frame with values`);
  return `/api/ds/query for ${query.key}: ${frames.length} frame(s) with values`;
}
