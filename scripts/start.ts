/**
 * `npm start`: deploys the `dev` stack through Pulumi's Automation API, streaming the engine's output,
 * and ends with where the model and the dashboard are. Stops at once, with one line, when the Pulumi
 * CLI or a Docker engine is missing, when the stack is locked by an update that is gone, when an
 * earlier stack's Docker objects are in the way of a first deploy, or when the stack's encryptionsalt
 * has lost its passphrase. Before the `up` it refreshes the Docker side of the state, so what Docker
 * lost comes back. See scripts/automation/stackHandling.ts for the backend choice.
 *
 * `npm start -- --remove-leftovers` removes an earlier stack's containers, network and volumes
 * (Prometheus history kept) before a first deploy.
 */
import * as path from "node:path";
import { ConfigKey, PROJECT } from "../components/config/stackConfig";
import { UsageError } from "./cliFlags";
import { beforeUp, parseStartFlags, stackEffects } from "./automation/beforeUp";
import { describeDockerEngine, dockerEngineFor, emulationNotice } from "./automation/dockerEngine";
import { interruptCounter } from "./automation/interrupts";
import { lockDir, lockedLine, readLocks, releaseAfterAbort, staleLockLine, staleLocks } from "./automation/locks";
import { StopLine, checkPrerequisites, errorText, firstLine } from "./automation/preflight";
import { formatChanges, lineWriter, startSummary } from "./automation/progress";
import { backendFor, describeBackend, passphraseLine, processProbe, readTextIfPresent, selectOrCreateStack } from "./automation/stackHandling";

const STACK = "dev";
const PROJECT_DIR = path.resolve(__dirname, "..");

async function main(): Promise<number> {
  const flags = parseStartFlags(process.argv.slice(2));
  const prerequisites = await checkPrerequisites("npm start");
  const backend = backendFor(processProbe(PROJECT_DIR));
  const projectLocal = backend.kind === "file";
  console.log(describeBackend(backend));
  const engine = await dockerEngineFor(PROJECT_DIR, STACK, readTextIfPresent);
  console.log(describeDockerEngine(engine));
  const notice = emulationNotice(prerequisites.dockerArchitecture, { stackName: STACK, pulumi: projectLocal ? "npm run pulumi --" : "pulumi", platformKey: "imagePlatform" satisfies ConfigKey });
  if (notice) console.log(notice);

  if (backend.kind === "file") {
    const [stale] = staleLocks(readLocks(lockDir(backend.dir, PROJECT, STACK)));
    if (stale) throw new StopLine(staleLockLine(stale, STACK, true));
  }
  const stack = await selectOrCreateStack({ projectDir: PROJECT_DIR, stackName: STACK, backend, pulumiCommand: prerequisites.pulumi, extraEnv: engine.env }).catch((error: unknown) => {
    const line = passphraseLine(errorText(error), {
      stackName: STACK,
      backend,
      stackFileText: readTextIfPresent(path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`)),
    });
    throw line ? new StopLine(line) : error;
  });

  // The terminal delivers Ctrl+C to `pulumi` as well, which then stops gracefully; a second one aborts it.
  const abort = new AbortController();
  const countInterrupt = interruptCounter();
  process.on("SIGINT", () => {
    if (countInterrupt() === 1) console.error("Stopping: Pulumi finishes the operations in flight (Ctrl+C again to abort at once).");
    else abort.abort();
  });

  const stdout = lineWriter((line) => console.log(line));
  const stderr = lineWriter((line) => console.error(line));
  const stream = { onOutput: stdout.onOutput, onError: stderr.onOutput, signal: abort.signal };
  let result;
  try {
    const replace = await beforeUp({ stackName: STACK, removeLeftovers: flags.removeLeftovers }, stackEffects(stack, stream, (line) => console.log(line)));
    if (abort.signal.aborted) throw new StopLine(`Aborted before pulumi up -s ${STACK} started.`);
    console.log(`pulumi up -s ${STACK}${replace.map((urn) => ` --replace ${urn}`).join("")}`);
    result = await stack.up({ ...stream, ...(replace.length > 0 ? { replace } : {}) });
  } catch (error) {
    if (error instanceof StopLine) throw error;
    // An abort may kill the CLI outright (on Windows always), leaving the file backend's lock: release it here.
    if (abort.signal.aborted && backend.kind === "file") {
      console.error(await releaseAfterAbort(() => stack.cancel(), STACK, projectLocal));
      return 130;
    }
    console.error(lockedLine(errorText(error), STACK, projectLocal) ?? `pulumi -s ${STACK} failed: ${firstLine(error)} (the engine's output above says more)`);
    return 1;
  } finally {
    stdout.end();
    stderr.end();
  }
  console.log("");
  console.log(`Stack ${STACK} is up: ${formatChanges(result.summary.resourceChanges)}.`);
  for (const line of startSummary(result.outputs, { stackName: STACK, projectLocalBackend: projectLocal })) console.log(line);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    // A reason to stop is one line by design; anything else is one line too, without a stack trace.
    console.error(error instanceof StopLine || error instanceof UsageError ? error.message : `npm start failed: ${firstLine(error)}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
