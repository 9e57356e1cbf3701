/**
 * `npm run pulumi -- <args>`: the Pulumi CLI on the backend `npm start` uses, so the project-local
 * fallback backend (and its passphrase) works for every command, e.g.
 * `npm run pulumi -- stack output grafanaAdminPassword --show-secrets -s dev` or `npm run pulumi -- up -s dev`.
 * With a backend you chose yourself it is plain `pulumi`. Either way the Docker provider reaches the
 * engine the Docker CLI uses (DOCKER_HOST, else its current context), as with `npm start`.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { currentDockerContext, resolveDockerEngine } from "./automation/dockerEngine";
import { INSTALL } from "./automation/preflight";
import { backendEnv, backendFor, processProbe } from "./automation/stackHandling";

// Ctrl+C reaches `pulumi` through the terminal; this process only waits for it to finish.
process.on("SIGINT", () => undefined);

async function main(): Promise<void> {
  const backend = backendFor(processProbe(path.resolve(__dirname, "..")));
  // A stack's docker:host still wins: the provider prefers its own config to DOCKER_HOST.
  const context = process.env.DOCKER_HOST?.trim() ? undefined : await currentDockerContext();
  const engine = resolveDockerEngine({ env: process.env, stackFile: "", context });
  const child = spawn("pulumi", process.argv.slice(2), { stdio: "inherit", env: { ...process.env, ...engine.env, ...backendEnv(backend) } });
  child.once("error", (error: NodeJS.ErrnoException) => {
    console.error(error.code === "ENOENT" ? `npm run pulumi needs ${INSTALL.pulumi}: \`pulumi\` is not on PATH.` : `pulumi did not start: ${error.message}`);
    process.exitCode = 1;
  });
  child.once("exit", (code, signal) => (process.exitCode = code ?? (signal ? 1 : 0)));
}

main().catch((error: Error) => {
  console.error(`npm run pulumi failed: ${error.message}`);
  process.exitCode = 1;
});
