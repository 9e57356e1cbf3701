/**
 * Deploys the rendered TF Serving build context to Railway and verifies the rollout; run by the
 * RailwayService command resource (and runnable by hand). Prints exactly one JSON line on stdout,
 * `{"host", "url", "deploymentId"}`; every diagnostic goes to stderr.
 *
 * Environment:
 *   RAILWAY_TOKEN (project token) or RAILWAY_API_TOKEN + RAILWAY_PROJECT_ID + RAILWAY_ENVIRONMENT_ID
 *   RAILWAY_CLI            path or name of the Railway CLI (default `railway`)
 *   DEPLOY_SERVICE, DEPLOY_CONTEXT_DIR, DEPLOY_REST_PORT, DEPLOY_IMAGE_REF, MODEL_NAME, TIMEOUT_SECONDS
 *   DEPLOY_RECEIVER_PASSWORD  metricsMode push: the receiver password, set as a Railway variable (never printed)
 *   DEPLOY_FRONT_DOOR_VARIABLES  the front door's keys, a JSON object of variable name to value, set as Railway variables (never printed)
 *   TFSERVING_API_KEY      a consumer's key the rollout check sends (never printed)
 *   DEPLOY_POLL_INTERVAL_MS  pause between deployment-status polls (default 5000)
 *   DEPLOY_VERIFY_URL      test-only: verify against this base URL instead of https://<domain>
 *
 * With the argument `keep-deployment` (the command's update: only the token, CLI path or timeout changed)
 * it deploys nothing and prints the previous run's result line again, from PULUMI_COMMAND_STDOUT.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { INSTALL_HINT, childEnvironment, railwayAuth, redact, resolveExecutable, spawnPlan } from "../components/railway/cli";
import { CliResult, CliRunner, KEEP_DEPLOYMENT_ARG, deployToRailway, keptDeploymentOutput } from "../components/railway/deploy";
import { API_KEY_ENV } from "../components/serving/predict";
import { loadSampleRows } from "../components/serving/tfExample";

const env = process.env;
const frontDoorVariables = JSON.parse(env.DEPLOY_FRONT_DOOR_VARIABLES || "{}") as Record<string, string>;
const secrets = [env.RAILWAY_TOKEN, env.RAILWAY_API_TOKEN, env.DEPLOY_RECEIVER_PASSWORD, env[API_KEY_ENV], ...Object.values(frontDoorVariables)];
const log = (line: string) => process.stderr.write(`${redact(line, secrets)}\n`);

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function isExecutableFile(candidate: string): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) return false;
    if (process.platform !== "win32") fs.accessSync(candidate, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Relays a child's stream to stderr line by line, redacted, while keeping all of it. */
function collect(stream: NodeJS.ReadableStream, echo: boolean): () => string {
  let all = "";
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    all += chunk;
    if (!echo) return;
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) log(`  railway: ${line}`);
  });
  stream.on("end", () => {
    if (echo && pending) log(`  railway: ${pending}`);
  });
  return () => all;
}

function runner(executable: string, timeoutMs: number): CliRunner {
  return (args, options = {}) =>
    new Promise<CliResult>((resolve) => {
      const plan = spawnPlan(process.platform, executable, args, env.ComSpec);
      const child = spawn(plan.command, plan.args, {
        env: childEnvironment(env),
        stdio: "pipe",
        windowsVerbatimArguments: plan.windowsVerbatimArguments,
        // A hung CLI must not hold `pulumi up` forever.
        timeout: timeoutMs,
      });
      // An empty stdin otherwise, as /dev/null would be: the CLI never waits for input.
      child.stdin.end(options.stdin ?? "");
      const stdout = collect(child.stdout, options.echoStdout ?? false);
      const stderr = collect(child.stderr, true);
      child.on("error", (error) => resolve({ code: null, stdout: stdout(), stderr: `${stderr()}${error.message}` }));
      child.on("close", (code, signal) =>
        resolve({ code, stdout: stdout(), stderr: signal ? `${stderr()}\nstopped by ${signal} after ${Math.round(timeoutMs / 1000)}s` : stderr() }),
      );
    });
}

async function main(): Promise<void> {
  if (process.argv[2] === KEEP_DEPLOYMENT_ARG) {
    process.stdout.write(keptDeploymentOutput(env.PULUMI_COMMAND_STDOUT));
    return;
  }
  const auth = railwayAuth(env);
  const cliName = env.RAILWAY_CLI || "railway";
  const executable = resolveExecutable(cliName, { platform: process.platform, pathEnv: env.PATH ?? env.Path, pathExt: env.PATHEXT, isFile: isExecutableFile });
  if (!executable) throw new Error(`Railway CLI not found (looked for ${JSON.stringify(cliName)}). ${INSTALL_HINT}`);

  const timeoutMs = Number(env.TIMEOUT_SECONDS ?? "600") * 1000;
  const result = await deployToRailway(
    {
      service: required("DEPLOY_SERVICE"),
      contextDir: required("DEPLOY_CONTEXT_DIR"),
      restPort: Number(required("DEPLOY_REST_PORT")),
      imageRef: required("DEPLOY_IMAGE_REF"),
      modelName: required("MODEL_NAME"),
      sampleRow: loadSampleRows()[0],
      timeoutMs,
      pollIntervalMs: Number(env.DEPLOY_POLL_INTERVAL_MS ?? "5000"),
      verifyBaseUrl: env.DEPLOY_VERIFY_URL || undefined,
      receiverPassword: env.DEPLOY_RECEIVER_PASSWORD || undefined,
      frontDoorVariables,
      apiKey: env[API_KEY_ENV] || undefined,
    },
    auth,
    // An upload plus build can take as long as the whole budget; other commands are quick.
    runner(executable, timeoutMs + 60_000),
    log,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: Error) => {
  log(error.message);
  process.exit(1);
});
