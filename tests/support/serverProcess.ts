import { ChildProcess, spawn } from "node:child_process";

export { freePort } from "../../scripts/freePort";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value, failing after `timeoutMs` with the last problem seen. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "no result";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await sleep(everyMs);
  }
}

/** Kills every server started here that a test forgot to stop, even when the test run is aborted. */
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

export interface ServerProcess {
  stop(): Promise<void>;
}

/**
 * Starts `binary` and waits until `readyUrl` answers 2xx; on failure stops it and reports its log.
 * `env` adds variables (e.g. secrets a config names) to the child's environment only.
 */
export async function startServerProcess(name: string, binary: string, args: string[], readyUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  running.add(child);
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      child.kill("SIGKILL");
    }
    running.delete(child);
  };

  try {
    await waitFor(`${name} to be ready`, 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${log}`);
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
      return response.ok ? true : undefined;
    }, 200);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${name} log:\n${log}`);
  }
  return { stop };
}
