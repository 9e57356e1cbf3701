import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { INSTALL, MissingToolError, Probe, checkPrerequisites, isNotInstalled, missingToolsLine } from "../../scripts/automation/preflight";
import { LineBuffer, formatChanges, lineWriter, passwordCommand, startSummary } from "../../scripts/automation/progress";

const ROOT = path.resolve(__dirname, "..", "..");
const present = <T>(value: T): Probe<T> => async () => ({ ok: true, value });
const absent = (problem: string): Probe<never> => async () => ({ ok: false, problem });
const fakePulumi = {} as PulumiCommand;

describe("prerequisites: one line naming what is missing", () => {
  it("passes the CLI and the engine's OS through when both are there", async () => {
    await expect(checkPrerequisites("npm start", { pulumi: present(fakePulumi), docker: present({ operatingSystem: "Docker Desktop", architecture: "aarch64" }) })).resolves.toEqual({
      pulumi: fakePulumi,
      dockerOs: "Docker Desktop",
      dockerArchitecture: "aarch64",
    });
  });

  it.each([
    ["the Pulumi CLI", absent("P"), present({ operatingSystem: "Ubuntu", architecture: "x86_64" }), ["P"]],
    ["the Docker engine", present(fakePulumi), absent("D"), ["D"]],
    ["both", absent("P"), absent("D"), ["P", "D"]],
  ])("without %s: a MissingToolError whose message is one line naming each", async (_, pulumi, docker, problems) => {
    const error = await checkPrerequisites("npm start", { pulumi, docker }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingToolError);
    const message = (error as Error).message;
    expect(message).toBe(missingToolsLine("npm start", problems as string[]));
    expect(message).not.toMatch(/\n/);
    for (const problem of problems as string[]) expect(message).toContain(problem);
  });

  it("says where to get each tool", () => {
    expect(INSTALL.pulumi).toMatch(/Pulumi CLI \(https:\/\/www\.pulumi\.com\/docs\/install\/\)/);
    expect(INSTALL.docker).toMatch(/Docker engine/);
  });

  it("recognises a CLI that is not on PATH the way the Automation API reports it", async () => {
    const error = await PulumiCommand.get({ root: path.join(os.tmpdir(), "no-pulumi-here") }).catch((caught: unknown) => caught);
    expect(isNotInstalled(error)).toBe(true);
    expect(isNotInstalled(new Error("Minimum version requirement failed"))).toBe(false);
  });
});

describe("streamed output: chunks become whole lines", () => {
  it("joins lines split across chunks, CRLF split included, and flushes the unterminated rest", () => {
    const buffer = new LineBuffer();
    expect(buffer.push("Updating (dev)\n\n  + docker:ind")).toEqual(["Updating (dev)", ""]);
    expect(buffer.push("ex:Network stack-network creating\r")).toEqual([]);
    expect(buffer.push("\nResources:\r\n    + 2 created")).toEqual(["  + docker:index:Network stack-network creating", "Resources:"]);
    expect(buffer.flush()).toEqual(["    + 2 created"]);
    expect(buffer.flush()).toEqual([]);
  });

  it("lineWriter writes each complete line once, the last one at end()", () => {
    const lines: string[] = [];
    const writer = lineWriter((line) => lines.push(line));
    "Previewing update (dev)\nDuration: 3s".split("").forEach(writer.onOutput);
    expect(lines).toEqual(["Previewing update (dev)"]);
    writer.end();
    expect(lines).toEqual(["Previewing update (dev)", "Duration: 3s"]);
  });
});

describe("the closing lines of npm start", () => {
  const outputs = {
    servingUrl: { value: "http://127.0.0.1:8501", secret: false },
    dashboardUrl: { value: "http://127.0.0.1:3000/d/tfserving-diabetes-prediction", secret: false },
    grafanaAdminUser: { value: "admin", secret: false },
    grafanaAdminPassword: { value: "s3cr3tpassword", secret: true },
    apiKeyHeader: { value: "Authorization: Bearer <key>", secret: false },
    apiKeys: { value: '{"dev":"d3vk3y"}', secret: true },
  };

  it("print servingUrl, dashboardUrl and the command that shows the Grafana password, never the password", () => {
    const lines = startSummary(outputs, { stackName: "dev", projectLocalBackend: false });
    expect(lines).toEqual([
      "servingUrl:   http://127.0.0.1:8501",
      "dashboardUrl: http://127.0.0.1:3000/d/tfserving-diabetes-prediction",
      "Grafana login: admin; password: pulumi stack output grafanaAdminPassword --show-secrets -s dev",
      'Predict with the header "Authorization: Bearer <key>"; keys: pulumi stack output apiKeys --show-secrets -s dev',
    ]);
    expect(lines.join("\n")).not.toContain("s3cr3tpassword");
    expect(lines.join("\n")).not.toContain("d3vk3y");
    // A public endpoint (publicEndpoint) has no header to send.
    expect(startSummary({ ...outputs, apiKeyHeader: { value: "", secret: false } }, { stackName: "dev", projectLocalBackend: false })).toHaveLength(3);
  });

  it("point at npm run pulumi on the project-local backend, which knows its URL and passphrase", () => {
    expect(passwordCommand("dev", true)).toBe("npm run pulumi -- stack output grafanaAdminPassword --show-secrets -s dev");
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.pulumi).toMatch(/scripts\/pulumi\.ts$/);
  });

  it("refuse to print an output that is missing or secret", () => {
    expect(() => startSummary({ ...outputs, servingUrl: undefined } as never, { stackName: "dev", projectLocalBackend: false })).toThrow(/no plain string output servingUrl/);
    expect(() => startSummary({ ...outputs, dashboardUrl: { value: "x", secret: true } }, { stackName: "dev", projectLocalBackend: false })).toThrow(/dashboardUrl/);
  });

  it("summarise the engine's resource changes in a fixed order", () => {
    expect(formatChanges({ same: 14, create: 2 })).toBe("2 created, 14 unchanged");
    expect(formatChanges({ replace: 1, update: 0, same: 3 })).toBe("1 replaced, 3 unchanged");
    expect(formatChanges(undefined)).toBe("no resources");
  });
});

describe("the real entry points where a tool is missing", () => {
  // PATH with node (to run the script) but no pulumi; the machine's docker stays reachable or not, it does not matter.
  const nodeDir = path.dirname(process.execPath);
  const run = (script: string, env: NodeJS.ProcessEnv, args: string[] = []) =>
    spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", script, ...args], { cwd: ROOT, encoding: "utf8", env, timeout: 60_000 });

  it("npm start without the Pulumi CLI: one line on stderr, nothing on stdout, exit 1", () => {
    const result = run("scripts/start.ts", { PATH: nodeDir, HOME: os.tmpdir() });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^npm start needs the Pulumi CLI \(https:\/\/www\.pulumi\.com\/docs\/install\/\): `pulumi` is not on PATH/)]);
  });

  it("npm start with an unknown argument: one line naming the only flag, exit 2, before any tool is probed", () => {
    const result = run("scripts/start.ts", { PATH: nodeDir, HOME: os.tmpdir() }, ["--force"]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual(["npm start takes no arguments but --remove-leftovers (got --force)"]);
  });

  it("npm start with a Pulumi CLI but no Docker engine answering: one line naming the engine, exit 1", () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    try {
      fs.writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\necho v3.200.0\n", { mode: 0o755 });
      // DOCKER_HOST at a socket nobody listens on: the client is there, the engine is not.
      const result = run("scripts/start.ts", { PATH: `${bin}${path.delimiter}${process.env.PATH}`, HOME: os.tmpdir(), DOCKER_HOST: `unix://${path.join(bin, "no-docker.sock")}` });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npm start needs a running Docker engine .*: the engine does not answer/);
      expect(lines[0]).not.toMatch(/Pulumi CLI/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("firstLine: one line out of an error", () => {
  it("takes the CLI's error line out of a CommandError's stderr, else the first non-empty line", async () => {
    const { CommandError } = await import("@pulumi/pulumi/automation");
    const { firstLine } = await import("../../scripts/automation/preflight");
    const result = { stdout: "Updating (dev)\n", stderr: "warning: A new version\nerror: update failed: port is already allocated\n", code: 255, toString: () => "code: 255\n stdout: Updating (dev)\n stderr: ..." };
    const error = new (CommandError as unknown as new (result: unknown) => Error)(result);
    expect(firstLine(error)).toBe("error: update failed: port is already allocated");
    expect(firstLine(new Error("\n  Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\nIs the docker daemon running?"))).toBe(
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
    );
    expect(firstLine("")).toBe("");
  });

  it("errorText reads the CLI's stderr out of a CommandError, the text of anything else", async () => {
    const { errorText } = await import("../../scripts/automation/preflight");
    expect(errorText({ commandResult: { stderr: "error: incorrect passphrase\n" } })).toBe("error: incorrect passphrase\n");
    expect(errorText(new Error("spawn pulumi ENOENT"))).toBe("Error: spawn pulumi ENOENT");
  });

  it("never quotes the Automation API's failed-command line, which repeats the CLI's argv (secret config included)", async () => {
    const { firstLine } = await import("../../scripts/automation/preflight");
    const stderr = "Command failed with exit code 255: pulumi config set-all --secret p:alertmanagerWebhookUrl=http://172.17.0.1:4000/alerts/5ec2e7\nerror: could not load plugin";
    expect(firstLine({ commandResult: { stderr } })).toBe("error: could not load plugin");
    expect(firstLine({ commandResult: { stderr: "Command failed with exit code 255: pulumi up --secret x=5ec2e7\nsomething else broke" } })).toBe("something else broke");
  });
});
