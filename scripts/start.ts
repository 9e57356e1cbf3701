/**
 * `npm start`: deploys the `dev` stack through Pulumi's Automation API, streaming the engine's output,
 * and ends with where the model and the dashboard are. Stops at once, with one line, when the Pulumi
 * CLI or a Docker engine is missing. See scripts/automation/stackHandling.ts for the backend choice.
 */
import * as path from "node:path";
import { MissingToolError, checkPrerequisites, firstLine } from "./automation/preflight";
import { interruptCounter } from "./automation/interrupts";
import { formatChanges, lineWriter, startSummary } from "./automation/progress";
import { backendFor, describeBackend, processProbe, selectOrCreateStack } from "./automation/stackHandling";

const STACK = "dev";
const PROJECT_DIR = path.resolve(__dirname, "..");

async function main(): Promise<number> {
  const { pulumi } = await checkPrerequisites("npm start");
  const backend = backendFor(processProbe(PROJECT_DIR));
  console.log(describeBackend(backend));
  const stack = await selectOrCreateStack({ projectDir: PROJECT_DIR, stackName: STACK, backend, pulumiCommand: pulumi });

  // The terminal delivers Ctrl+C to `pulumi` as well, which then stops gracefully; a second one aborts it.
  const abort = new AbortController();
  const countInterrupt = interruptCounter();
  process.on("SIGINT", () => {
    if (countInterrupt() === 1) console.error("Stopping: Pulumi finishes the operations in flight (Ctrl+C again to abort at once).");
    else abort.abort();
  });

  console.log(`pulumi up -s ${STACK}`);
  const stdout = lineWriter((line) => console.log(line));
  const stderr = lineWriter((line) => console.error(line));
  let result;
  try {
    result = await stack.up({ onOutput: stdout.onOutput, onError: stderr.onOutput, signal: abort.signal });
  } catch (error) {
    console.error(`pulumi up -s ${STACK} failed: ${firstLine(error)} (the engine's output above says more)`);
    return 1;
  } finally {
    stdout.end();
    stderr.end();
  }
  console.log("");
  console.log(`Stack ${STACK} is up: ${formatChanges(result.summary.resourceChanges)}.`);
  for (const line of startSummary(result.outputs, { stackName: STACK, projectLocalBackend: backend.kind === "file" })) console.log(line);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    // A missing tool is one line by design; anything else is one line too, without a stack trace.
    console.error(error instanceof MissingToolError ? error.message : `npm start failed: ${firstLine(error)}`);
    process.exitCode = 1;
  },
);
