/**
 * The Railway deploy, step by step, over an injected CLI runner (so the sequence is testable with a
 * fake `railway`): pin PORT, upload the build context, confirm the newest deployment reached SUCCESS,
 * make sure a domain exists, verify the rollout on it. Diagnostics go to `log` (stderr).
 */
import { RECEIVER_PASSWORD_ENV } from "../serving/buildContext";
import { RolloutError, verifyRollout } from "../serving/rollout";
import { DiabetesRow } from "../serving/tfExample";
import { INSTALL_HINT, RailwayAuth } from "./cli";
import {
  DeployResult,
  Deployment,
  FINAL_FAILURES,
  SUCCESS,
  domainsFromDomainCommand,
  domainsFromDomainList,
  newestDeployment,
  parseDeployResult,
  readUploadOutput,
} from "./parse";

export interface CliResult {
  /** Exit code; null when the process could not start or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `railway <args>`; echoStdout relays stdout to the log as it arrives (build logs); stdin is written
 * to the CLI's standard input (how a secret reaches it without appearing in its argv).
 */
export type CliRunner = (args: string[], options?: { echoStdout?: boolean; stdin?: string }) => Promise<CliResult>;

export interface DeployInputs {
  service: string;
  contextDir: string;
  restPort: number;
  /** Becomes the deployment message, so Railway's dashboard shows which build context it runs. */
  imageRef: string;
  modelName: string;
  sampleRow: DiabetesRow;
  /** Budget for the deployment to reach SUCCESS, and again for the model to answer. */
  timeoutMs: number;
  pollIntervalMs: number;
  /** Push mode: the receiver password, set as the METRICS_RECEIVER_PASSWORD variable (never logged). */
  receiverPassword?: string;
  /** The front door's keys by variable name, set as Railway variables (never logged). */
  frontDoorVariables?: Record<string, string>;
  /** A consumer's key the rollout check sends; none for a public endpoint. */
  apiKey?: string;
  /** Test-only: verify against this base URL instead of https://<domain>. */
  verifyBaseUrl?: string;
}

/**
 * The deploy command's update argument: a change of the token, the CLI path or the timeout (inputs that are
 * not triggers) deploys nothing; the script prints the last deploy's result again so the stack keeps it.
 */
export const KEEP_DEPLOYMENT_ARG = "keep-deployment";

/** The stdout of an update: the result line of the previous run (PULUMI_COMMAND_STDOUT), checked. */
export function keptDeploymentOutput(previousStdout: string | undefined): string {
  if (!previousStdout) {
    throw new DeployError(
      "No earlier deploy result to keep (PULUMI_COMMAND_STDOUT is empty); deploy again with " +
        "`pulumi up --replace <urn of the serving-deploy command>` (`pulumi stack --show-urns` lists it).",
    );
  }
  return `${JSON.stringify(parseDeployResult(previousStdout))}\n`;
}

export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployError";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failure(what: string, result: CliResult): DeployError {
  if (result.code === 127) {
    return new DeployError(`\`railway ${what}\` exited 127: the CLI's binary is missing (an npm install with --ignore-scripts leaves only a shim). ${INSTALL_HINT}`);
  }
  const output = (result.stderr.trim() || result.stdout.trim()).slice(-1000);
  return new DeployError(`\`railway ${what}\` failed (exit ${result.code ?? "none"}): ${output || "no output"}`);
}

export async function deployToRailway(inputs: DeployInputs, auth: RailwayAuth, run: CliRunner, log: (line: string) => void): Promise<DeployResult> {
  const service = ["--service", inputs.service];

  // The front door listens on PORT and the domain targets restPort, so PORT stays pinned to it.
  log(`Pinning PORT=${inputs.restPort} on service ${inputs.service}`);
  const variables = await run(["variables", ...service, "--set", `PORT=${inputs.restPort}`, "--skip-deploys"]);
  if (variables.code !== 0) throw failure("variables --set PORT", variables);
  if (inputs.receiverPassword) {
    // Through stdin, never argv: a command line is readable by every user of the host (ps, /proc).
    log(`Setting ${RECEIVER_PASSWORD_ENV} on service ${inputs.service}`);
    const password = await run(["variables", ...service, "--set-from-stdin", RECEIVER_PASSWORD_ENV, "--skip-deploys"], { stdin: inputs.receiverPassword });
    if (password.code !== 0) throw failure(`variables --set-from-stdin ${RECEIVER_PASSWORD_ENV}`, password);
  }
  for (const [variable, value] of Object.entries(inputs.frontDoorVariables ?? {})) {
    log(`Setting ${variable} on service ${inputs.service}`);
    const set = await run(["variables", ...service, "--set-from-stdin", variable, "--skip-deploys"], { stdin: value });
    if (set.code !== 0) throw failure(`variables --set-from-stdin ${variable}`, set);
  }

  // The newest deployment before the upload; confirmation must find a different, newer one.
  const before = await listNewest(run, service);

  log(`Uploading ${inputs.contextDir} to service ${inputs.service}`);
  // An account token is tied to no project: name it and the environment on the upload too (`--project` needs `--environment`).
  const target = auth.kind === "account" ? ["--project", auth.projectId, "--environment", auth.environmentId] : [];
  // --no-gitignore: the repository ignores `.build/`, and the rendered context is already exactly what to upload.
  const upload = await run(["up", inputs.contextDir, "--path-as-root", "--no-gitignore", ...service, ...target, "--json", "-m", inputs.imageRef], {
    echoStdout: true,
  });
  const outcome = readUploadOutput(upload.stdout, upload.stderr);
  if (outcome.status === "failed" || outcome.status === "crashed") {
    throw new DeployError(`Railway reports the deployment ${outcome.status.toUpperCase()}; the build and deploy logs above say why.`);
  }
  // Any other exit is confirmed against the deployment list: CI mode can exit 0 before the deploy is
  // done, and "Failed to stream build logs" exits 1 although the deploy went on.
  const keepWaiting = upload.code === 0 || outcome.streamBroke;
  if (upload.code !== 0) log(outcome.streamBroke ? "The build-log stream broke; confirming with the deployment list" : "`railway up` failed; checking the deployment list");
  const deployment = await confirmNewDeployment(run, service, before?.id, keepWaiting ? inputs.timeoutMs : 0, inputs.pollIntervalMs, log, () =>
    upload.code === 0 ? undefined : [...outcome.errors, failure("up", upload).message].join("; "),
  );

  const host = await ensureDomain(run, service, inputs.restPort, auth, log);
  const servingUrl = inputs.verifyBaseUrl ?? `https://${host}`;
  log(`Verifying the rollout at ${servingUrl}`);
  try {
    await verifyRollout({ servingUrl, modelName: inputs.modelName, timeoutMs: inputs.timeoutMs, sampleRow: inputs.sampleRow, apiKey: inputs.apiKey, log });
  } catch (error) {
    if (error instanceof RolloutError) throw new DeployError(`Deployment ${deployment.id} is SUCCESS, but ${error.message}`);
    throw error;
  }
  return { host, url: `https://${host}`, deploymentId: deployment.id };
}

async function listNewest(run: CliRunner, service: string[]): Promise<Deployment | undefined> {
  const list = await run(["deployment", "list", ...service, "--json"]);
  if (list.code !== 0) throw failure("deployment list", list);
  return newestDeployment(list.stdout);
}

/** Polls (bounded) until a deployment newer than `previousId` is SUCCESS; names its last status otherwise. */
async function confirmNewDeployment(
  run: CliRunner,
  service: string[],
  previousId: string | undefined,
  timeoutMs: number,
  pollIntervalMs: number,
  log: (line: string) => void,
  uploadError: () => string | undefined,
): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const newest = await listNewest(run, service);
    const isNew = newest !== undefined && newest.id !== previousId;
    if (isNew && newest.status === SUCCESS) return newest;
    if (isNew && FINAL_FAILURES.includes(newest.status)) {
      throw new DeployError(`The newest deployment ${newest.id} is ${newest.status}, not ${SUCCESS}; see its build and deploy logs in Railway.`);
    }
    const state = isNew ? `deployment ${newest.id} is ${newest.status}` : "no new deployment yet";
    if (Date.now() >= deadline) {
      const cause = uploadError();
      throw new DeployError(
        cause
          ? `\`railway up\` failed and no new deployment reached ${SUCCESS} (${state}): ${cause}`
          : `No new deployment reached ${SUCCESS} within ${Math.round(timeoutMs / 1000)}s (${state}); ` +
              "raise tfserving-platform:readinessTimeoutSeconds if builds are just slow.",
      );
    }
    log(`Waiting for the deployment: ${state}`);
    await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** The service's domain: read the existing one, create one for the REST port only when there is none. */
async function ensureDomain(run: CliRunner, service: string[], restPort: number, auth: RailwayAuth, log: (line: string) => void): Promise<string> {
  const listed = await run(["domain", "list", ...service, "--json"]);
  if (listed.code === 0) {
    const [existing] = domainsFromDomainList(listed.stdout);
    if (existing) {
      if (existing.targetPort !== undefined && existing.targetPort !== restPort) {
        log(`Warning: domain ${existing.host} targets port ${existing.targetPort}, but TF Serving's REST port is ${restPort}; change the domain's port in Railway.`);
      }
      return existing.host;
    }
  } else {
    log(`Could not list the service's domains (${(listed.stderr.trim() || listed.stdout.trim()).slice(0, 300)}); trying to create one`);
  }

  log(`Creating a Railway domain for port ${restPort}`);
  const created = await run(["domain", ...service, "--port", String(restPort), "--json"]);
  if (created.code !== 0) {
    const refusedHint =
      auth.kind === "project"
        ? " A project token (RAILWAY_TOKEN) may not be allowed to create domains: create the domain once in the Railway dashboard " +
          `(service → Settings → Networking → Generate Domain, port ${restPort}) or with an account token, then run \`pulumi up\` again; ` +
          "afterwards the deploy only reads it."
        : "";
    throw new DeployError(`${failure(`domain --port ${restPort}`, created).message}.${refusedHint}`);
  }
  const [host] = domainsFromDomainCommand(created.stdout);
  if (!host) throw new DeployError(`\`railway domain --json\` printed no domain: ${JSON.stringify(created.stdout.trim().slice(0, 200))}`);
  return host;
}
