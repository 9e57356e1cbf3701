/**
 * Locks of the file backend. Every update writes `.pulumi/locks/<org>/<project>/<stack>/<id>.json`
 * (`{pid, username, hostname, timestamp}`, Pulumi's diy backend) and removes it when it ends. A CLI
 * killed outright (Windows has no SIGINT for a child, so the Automation API's abort terminates it)
 * leaves the lock, and every later update fails with "the stack is currently locked". `pulumi cancel`
 * removes a file backend's locks (pulumi/pulumi#9100).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firstLine } from "./preflight";

export interface LockContent {
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

export interface StackLock extends LockContent {
  file: string;
}

/** The folder the file backend in `backendDir` keeps a stack's locks in (project-scoped layout). */
export function lockDir(backendDir: string, projectName: string, stackName: string): string {
  return path.join(backendDir, ".pulumi", "locks", "organization", projectName, stackName);
}

/** The locks on a stack; none when the folder does not exist. A lock file that is not JSON still counts, with unknown owner. */
export function readLocks(dir: string): StackLock[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names.map((name) => {
    const file = path.join(dir, name);
    try {
      const content = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LockContent>;
      return { file, pid: Number(content.pid), username: String(content.username ?? ""), hostname: String(content.hostname ?? ""), timestamp: String(content.timestamp ?? "") };
    } catch {
      return { file, pid: NaN, username: "", hostname: "", timestamp: "" };
    }
  });
}

/** A process with this pid runs on this machine (signal 0 checks without sending; EPERM means it runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Locks whose process is gone: taken on this machine by a pid that no longer runs. A lock of another machine may be live, so it is never called stale. */
export function staleLocks(locks: StackLock[], probe: { hostname: string; alive: (pid: number) => boolean } = { hostname: os.hostname(), alive: processAlive }): StackLock[] {
  return locks.filter((lock) => lock.hostname === probe.hostname && Number.isInteger(lock.pid) && lock.pid > 0 && !probe.alive(lock.pid));
}

/** The command that clears a stack's locks on the backend `npm start` uses. */
export function cancelCommand(stackName: string, projectLocalBackend: boolean): string {
  return `${projectLocalBackend ? "npm run pulumi --" : "pulumi"} cancel --yes -s ${stackName}`;
}

/** The one line for a lock left by a process that is gone. */
export function staleLockLine(lock: StackLock, stackName: string, projectLocalBackend: boolean): string {
  return (
    `Stack ${stackName} is locked by an update that is no longer running (pid ${lock.pid} on ${lock.hostname}, since ${lock.timestamp || "an unknown time"}; ` +
    `interrupted or killed). Clear the lock with \`${cancelCommand(stackName, projectLocalBackend)}\`, then run npm start again.`
  );
}

/** One line for the engine's "currently locked" error, whatever left the lock. */
export function lockedLine(errorText: string, stackName: string, projectLocalBackend: boolean): string | undefined {
  if (!/the stack is currently locked/i.test(errorText)) return undefined;
  return (
    `Stack ${stackName} is locked by another update. If none is running (an interrupted npm start or pulumi up), ` +
    `clear the lock with \`${cancelCommand(stackName, projectLocalBackend)}\`, then run npm start again.`
  );
}

/**
 * After an aborted update: the CLI may have been killed before it removed its lock, so cancel the
 * stack's update in this process (on a file backend, `pulumi cancel` deletes the lock files; with no
 * lock it changes nothing). Returns the line to print.
 */
export async function releaseAfterAbort(cancel: () => Promise<void>, stackName: string, projectLocalBackend: boolean): Promise<string> {
  try {
    await cancel();
    return `Aborted. Stack ${stackName} is not left locked; resources in flight may need the next npm start to settle.`;
  } catch (error) {
    return `Aborted, but the lock could not be released (${firstLine(error)}); if the next npm start says the stack is locked, run \`${cancelCommand(stackName, projectLocalBackend)}\`.`;
  }
}
