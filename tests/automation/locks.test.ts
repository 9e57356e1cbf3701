import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cancelCommand, lockDir, lockedLine, processAlive, readLocks, releaseAfterAbort, staleLockLine, staleLocks } from "../../scripts/automation/locks";
import { PROJECT_LOCAL_BACKEND_DIR, backendFor, passphraseLine } from "../../scripts/automation/stackHandling";

/** A dead pid: a process that ran and exited (and, on a busy machine, was not reused within the test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("a file backend's stack locks", () => {
  let backend: string;
  beforeEach(() => {
    backend = fs.mkdtempSync(path.join(os.tmpdir(), "locks-"));
  });
  afterEach(() => fs.rmSync(backend, { recursive: true, force: true }));

  /** A lock as Pulumi's diy backend writes it: json.Marshal of {pid, username, hostname, timestamp} into <uuid>.json. */
  const writeLock = (pid: number, hostname: string) => {
    const dir = lockDir(backend, "tfserving-platform", "dev");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "bf4d21ea-53b0-42c4-b03d-a6c88daad481.json");
    fs.writeFileSync(file, JSON.stringify({ pid, username: "me", hostname, timestamp: "2026-12-07T11:21:31.126989470Z" }));
    return file;
  };

  it("lives where the CLI puts it: .pulumi/locks/organization/<project>/<stack>/", () => {
    expect(lockDir("/b", "tfserving-platform", "dev")).toBe(path.join("/b", ".pulumi", "locks", "organization", "tfserving-platform", "dev"));
    expect(readLocks(lockDir(backend, "tfserving-platform", "dev"))).toEqual([]);
  });

  it("is stale when its process on this machine is gone, never when it runs or belongs to another machine", () => {
    const gone = deadPid();
    expect(processAlive(gone)).toBe(false);
    expect(processAlive(process.pid)).toBe(true);
    const file = writeLock(gone, os.hostname());
    const locks = readLocks(lockDir(backend, "tfserving-platform", "dev"));
    expect(locks).toEqual([{ file, pid: gone, username: "me", hostname: os.hostname(), timestamp: "2026-12-07T11:21:31.126989470Z" }]);
    expect(staleLocks(locks)).toEqual(locks);
    expect(staleLocks([{ ...locks[0], pid: process.pid }])).toEqual([]);
    expect(staleLocks([{ ...locks[0], hostname: "ci-runner-7" }], { hostname: "laptop", alive: () => false })).toEqual([]);
  });

  it("is reported in one line with the command that clears it on the backend npm start uses", () => {
    const lock = { file: "x.json", pid: 4242, username: "me", hostname: "laptop", timestamp: "2026-12-07T11:21:31Z" };
    const line = staleLockLine(lock, "dev", true);
    expect(line).toBe(
      "Stack dev is locked by an update that is no longer running (pid 4242 on laptop, since 2026-12-07T11:21:31Z; interrupted or killed). " +
        "Clear the lock with `npm run pulumi -- cancel --yes -s dev`, then run npm start again.",
    );
    expect(cancelCommand("dev", false)).toBe("pulumi cancel --yes -s dev");
  });

  it("turns the CLI's 'currently locked' error into that one line, and leaves other errors alone", () => {
    const stderr =
      "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
      "  file:///p/.pulumi-local/.pulumi/locks/organization/tfserving-platform/dev/bf4d21ea.json: created by me@laptop (pid 42) at 2026-12-07T11:21:31Z\n";
    expect(lockedLine(stderr, "dev", true)).toMatch(/^Stack dev is locked by another update\. .*`npm run pulumi -- cancel --yes -s dev`/);
    expect(lockedLine("error: update failed", "dev", true)).toBeUndefined();
  });
});

describe("after an aborted update (second Ctrl+C; on Windows the CLI is killed outright)", () => {
  it("cancels the update in the same process, so the stack is not left locked", async () => {
    let cancelled = 0;
    const line = await releaseAfterAbort(async () => {
      cancelled += 1;
    }, "dev", true);
    expect(cancelled).toBe(1);
    expect(line).toMatch(/^Aborted\. Stack dev is not left locked/);
  });

  it("says which command clears the lock when cancel fails, without quoting the CLI's argv", async () => {
    const failure = Object.assign(new Error("code: 255"), { commandResult: { stderr: "Command failed with exit code 255: pulumi cancel --yes --stack dev\nerror: open lock: permission denied\n" } });
    const line = await releaseAfterAbort(() => Promise.reject(failure), "dev", true);
    expect(line).toBe("Aborted, but the lock could not be released (error: open lock: permission denied); if the next npm start says the stack is locked, run `npm run pulumi -- cancel --yes -s dev`.");
  });
});

describe("a lost passphrase for the encryptionsalt in Pulumi.<stack>.yaml", () => {
  // What `pulumi stack init --secrets-provider passphrase` says when the salt in the stack file was made with another passphrase.
  const cliError = "error: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase\n";
  const stackFile = "encryptionsalt: v1:Q1XkR0x1yfE=:v1:1MKgJx0vp8rGzF+K:YcQUsqWJlmtGEmLJ4nh8Bh6/pCzFMw==\nconfig:\n  tfserving-platform:deployTarget: local\n";

  it("gets one line saying what to do instead of 'incorrect passphrase' (the project-local backend's passphrase file is gone)", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "salt-"));
    try {
      const backend = backendFor({ env: {}, projectDir: project, homeDir: project, readText: () => undefined });
      const line = passphraseLine(cliError, { stackName: "dev", backend, stackFileText: stackFile })!;
      expect(line).toBe(
        `Pulumi.dev.yaml holds the encryptionsalt of an earlier dev stack whose passphrase (${path.join(PROJECT_LOCAL_BACKEND_DIR, "passphrase.txt")}) is gone: ` +
          "delete the `encryptionsalt:` line (and any `secure:` values, which only the old passphrase can read) from Pulumi.dev.yaml, then run npm start again.",
      );
      expect(passphraseLine(cliError, { stackName: "dev", backend: { kind: "chosen", source: "PULUMI_BACKEND_URL" }, stackFileText: stackFile })).toMatch(/^Pulumi\.dev\.yaml holds an encryptionsalt that PULUMI_CONFIG_PASSPHRASE does not match: set PULUMI_CONFIG_PASSPHRASE/);
      // Another error, or no salt in the file: not this case.
      expect(passphraseLine("error: could not load plugin", { stackName: "dev", backend, stackFileText: stackFile })).toBeUndefined();
      expect(passphraseLine(cliError, { stackName: "dev", backend, stackFileText: "config: {}\n" })).toBeUndefined();
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
