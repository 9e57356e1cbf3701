import { spawnSync } from "node:child_process";

/** Fails (never skips) when a tool the test needs is missing, saying how to install it. */
export function requireTool(command: string, installHint: string, versionArgs: string[] = ["--version"]): void {
  const probe = spawnSync(command, versionArgs, { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${command} is required by this test but is not usable here (${probe.error?.message ?? probe.stderr.trim()}). Install it: ${installHint}`);
  }
}
