/** Readers for the Railway CLI's outputs (shapes in RAILWAY.md) and for our deploy CLI's final line. */

export interface Deployment {
  id: string;
  status: string;
  createdAt?: string;
}

export interface DeployResult {
  /** Bare hostname, e.g. x.up.railway.app. */
  host: string;
  url: string;
  deploymentId: string;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} printed something that is not JSON: ${JSON.stringify(text.trim().slice(0, 200))}`);
  }
}

/** `https://x.up.railway.app/`, `x.up.railway.app` -> `x.up.railway.app`; throws on anything else. */
export function bareHost(urlOrHost: string): string {
  const host = urlOrHost.trim().replace(/^https?:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
  if (!HOSTNAME.test(host)) throw new Error(`${JSON.stringify(urlOrHost)} is not a domain name`);
  return host;
}

/** Railway-provided domains first: they always exist once generated, custom ones may lack DNS. */
function railwayFirst(hosts: string[]): string[] {
  const provided = hosts.filter((host) => host.endsWith(".up.railway.app"));
  return [...provided, ...hosts.filter((host) => !provided.includes(host))];
}

/**
 * Hosts printed by `railway domain --json`: `{"domain": "https://..."}` when it created one,
 * `{"domains": [...]}` when the service had some, or (CLI before 4.18.1) plain text with the URLs.
 */
export function domainsFromDomainCommand(stdout: string): string[] {
  const text = stdout.trim();
  if (text.startsWith("{")) {
    const parsed = parseJson(text, "`railway domain --json`") as { domain?: unknown; domains?: unknown };
    const values = typeof parsed.domain === "string" ? [parsed.domain] : Array.isArray(parsed.domains) ? parsed.domains : undefined;
    if (!values || values.some((value) => typeof value !== "string")) {
      throw new Error(`\`railway domain --json\` printed ${JSON.stringify(text.slice(0, 200))}; expected {"domain": "..."} or {"domains": [...]}`);
    }
    return railwayFirst((values as string[]).map(bareHost));
  }
  // Plain text: URLs, or bare Railway-provided hosts; other words (and dotted prose) are not domains.
  const found = [...text.matchAll(/https?:\/\/([a-z0-9.-]+)|\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.up\.railway\.app)\b/gi)];
  return railwayFirst([...new Set(found.map((match) => bareHost(match[1] ?? match[2])))]);
}

export interface ListedDomain {
  host: string;
  type?: string;
  targetPort?: number;
}

/** `railway domain list --json`: `{"domains":[{"domain": "<bare host>", "type", "targetPort", ...}]}`. */
export function domainsFromDomainList(stdout: string): ListedDomain[] {
  const parsed = parseJson(stdout.trim(), "`railway domain list --json`") as { domains?: unknown };
  if (!Array.isArray(parsed.domains)) throw new Error(`\`railway domain list --json\` printed no "domains" array: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  const domains = (parsed.domains as { domain?: unknown; type?: unknown; targetPort?: unknown }[])
    .filter((entry) => typeof entry?.domain === "string")
    .map((entry) => ({
      host: bareHost(entry.domain as string),
      type: typeof entry.type === "string" ? entry.type : undefined,
      targetPort: typeof entry.targetPort === "number" ? entry.targetPort : undefined,
    }));
  return [...domains.filter((entry) => entry.type === "service"), ...domains.filter((entry) => entry.type !== "service")];
}

/** The newest entry of `railway deployment list --json` by `createdAt` (not by position), or undefined when there is none. */
export function newestDeployment(stdout: string): Deployment | undefined {
  const parsed = parseJson(stdout.trim(), "`railway deployment list --json`");
  const list = Array.isArray(parsed) ? parsed : (parsed as { deployments?: unknown }).deployments;
  if (!Array.isArray(list)) throw new Error(`\`railway deployment list --json\` printed no list: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  const deployments = (list as Partial<Deployment>[]).filter(
    (entry): entry is Deployment => typeof entry?.id === "string" && typeof entry.status === "string",
  );
  if (deployments.length !== list.length) throw new Error("`railway deployment list --json` has entries without an id or status");
  return deployments.reduce<Deployment | undefined>(
    (newest, entry) => (newest === undefined || Date.parse(entry.createdAt ?? "") > Date.parse(newest.createdAt ?? "") ? entry : newest),
    undefined,
  );
}

export const SUCCESS = "SUCCESS";
/** Statuses after which a deployment never becomes SUCCESS. */
export const FINAL_FAILURES = ["FAILED", "CRASHED", "REMOVED", "SKIPPED"];

export interface UploadOutcome {
  /** The final `{"status": ...}` of `railway up --json`, lower case, if it printed one. */
  status?: string;
  /** `{"error", "hint"}` objects it printed. */
  errors: string[];
  /** The known "Failed to stream build logs" case: the upload worked, only the log stream broke. */
  streamBroke: boolean;
}

/** Reads what `railway up --json` printed: log lines, a final status, or errors. */
export function readUploadOutput(stdout: string, stderr: string): UploadOutcome {
  const outcome: UploadOutcome = { errors: [], streamBroke: /failed to stream (build )?logs/i.test(`${stdout}\n${stderr}`) };
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.trim().startsWith("{")) continue;
    let record: { status?: unknown; error?: unknown; hint?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      continue; // a build-log line that merely starts with a brace
    }
    if (typeof record.status === "string" && ["success", "failed", "crashed"].includes(record.status.toLowerCase())) {
      outcome.status = record.status.toLowerCase();
    }
    if (typeof record.error === "string") outcome.errors.push(record.hint ? `${record.error} (${record.hint})` : record.error);
  }
  return outcome;
}

/** The last stdout line of scripts/deploy-railway.ts: `{"host", "url", "deploymentId"}`. */
export function parseDeployResult(stdout: string): DeployResult {
  const lastLine = stdout.trim().split(/\r?\n/).pop() ?? "";
  const parsed = parseJson(lastLine, "The Railway deploy") as Partial<Record<keyof DeployResult, unknown>>;
  if (typeof parsed.host !== "string" || typeof parsed.url !== "string" || typeof parsed.deploymentId !== "string") {
    throw new Error(`The Railway deploy's last line lacks host, url or deploymentId: ${JSON.stringify(lastLine.slice(0, 200))}`);
  }
  const host = bareHost(parsed.host);
  if (host !== parsed.host) throw new Error(`The Railway deploy's host must be a bare hostname, got ${JSON.stringify(parsed.host)}`);
  return { host, url: parsed.url, deploymentId: parsed.deploymentId };
}
