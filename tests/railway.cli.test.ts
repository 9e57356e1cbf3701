import { childEnvironment, railwayAuth, redact, resolveExecutable, spawnPlan } from "../components/railway/cli";
import { bareHost, domainsFromDomainCommand, domainsFromDomainList, newestDeployment, parseDeployResult, readUploadOutput } from "../components/railway/parse";

const files = (...existing: string[]) => (candidate: string) => existing.includes(candidate);

describe("resolveExecutable", () => {
  it("finds railway on a POSIX PATH, first directory first", () => {
    const isFile = files("/usr/bin/railway", "/opt/bin/railway");
    expect(resolveExecutable("railway", { platform: "linux", pathEnv: "/home/u/bin::/opt/bin:/usr/bin", pathExt: undefined, isFile })).toBe("/opt/bin/railway");
  });

  it("on Windows tries PATHEXT in order, so railway.exe wins over npm's railway.cmd in the same folder", () => {
    const search = { platform: "win32" as const, pathEnv: "C:\\npm;C:\\scoop\\shims", pathExt: ".COM;.EXE;.BAT;.CMD" };
    expect(resolveExecutable("railway", { ...search, isFile: files("C:\\npm\\railway.cmd", "C:\\npm\\railway.exe") })).toBe("C:\\npm\\railway.exe");
    expect(resolveExecutable("railway", { ...search, isFile: files("C:\\npm\\railway.cmd") })).toBe("C:\\npm\\railway.cmd");
    expect(resolveExecutable("railway", { ...search, isFile: files("C:\\npm\\railway") })).toBeUndefined();
  });

  it("takes a configured path as it is, adding a Windows extension when it has none", () => {
    expect(resolveExecutable("./tools/railway", { platform: "darwin", pathEnv: "/usr/bin", pathExt: undefined, isFile: files("./tools/railway") })).toBe("./tools/railway");
    expect(resolveExecutable("D:\\cli\\railway", { platform: "win32", pathEnv: "", pathExt: ".EXE;.CMD", isFile: files("D:\\cli\\railway.cmd") })).toBe(
      "D:\\cli\\railway.cmd",
    );
    expect(resolveExecutable("D:\\cli\\railway.exe", { platform: "win32", pathEnv: "", pathExt: ".EXE", isFile: files("D:\\cli\\railway.exe") })).toBe(
      "D:\\cli\\railway.exe",
    );
  });

  it("returns undefined when PATH is unset or has no railway", () => {
    expect(resolveExecutable("railway", { platform: "linux", pathEnv: undefined, pathExt: undefined, isFile: () => true })).toBeUndefined();
  });
});

describe("spawnPlan", () => {
  it("runs executables directly", () => {
    expect(spawnPlan("linux", "/usr/bin/railway", ["up", "my dir"])).toEqual({ command: "/usr/bin/railway", args: ["up", "my dir"] });
    expect(spawnPlan("win32", "C:\\bin\\railway.exe", ["up"])).toEqual({ command: "C:\\bin\\railway.exe", args: ["up"] });
  });

  it("runs a .cmd shim through cmd.exe with every argument quoted", () => {
    expect(spawnPlan("win32", "C:\\npm\\railway.cmd", ["up", "C:\\my project\\.build", "-m", "a:b"], "C:\\Windows\\system32\\cmd.exe")).toEqual({
      command: "C:\\Windows\\system32\\cmd.exe",
      args: ["/d", "/s", "/c", '""C:\\npm\\railway.cmd" "up" "C:\\my project\\.build" "-m" "a:b""'],
      windowsVerbatimArguments: true,
    });
  });

  it("refuses arguments cmd.exe would still interpret", () => {
    expect(() => spawnPlan("win32", "railway.cmd", ["%PATH%"])).toThrow(/cannot pass "%PATH%" safely/);
    expect(() => spawnPlan("win32", "railway.cmd", ['a"b'])).toThrow(/safely/);
  });
});

describe("railwayAuth", () => {
  it("accepts a project token alone, or an account token with project and environment", () => {
    expect(railwayAuth({ RAILWAY_TOKEN: "t" })).toEqual({ kind: "project" });
    expect(railwayAuth({ RAILWAY_API_TOKEN: "t", RAILWAY_PROJECT_ID: "p", RAILWAY_ENVIRONMENT_ID: "e" })).toEqual({
      kind: "account",
      projectId: "p",
      environmentId: "e",
    });
  });

  it.each([
    [{}, /No Railway token.*pulumi config set --secret tfserving-platform:railwayToken/],
    [{ RAILWAY_TOKEN: "a", RAILWAY_API_TOKEN: "b" }, /Both RAILWAY_TOKEN and RAILWAY_API_TOKEN are set/],
    [{ RAILWAY_API_TOKEN: "b", RAILWAY_ENVIRONMENT_ID: "e" }, /needs RAILWAY_PROJECT_ID.*tfserving-platform:railwayProjectId/],
  ])("refuses %j", (env, message) => {
    expect(() => railwayAuth(env)).toThrow(message);
  });

  it("never echoes a token in its errors", () => {
    let message = "";
    try {
      railwayAuth({ RAILWAY_TOKEN: "tok-123456", RAILWAY_API_TOKEN: "api-654321" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/Both RAILWAY_TOKEN/);
    expect(message).not.toMatch(/tok-123456|api-654321/);
  });
});

it("childEnvironment turns off self-update and interactivity, keeping the rest", () => {
  expect(childEnvironment({ PATH: "/bin", CI: "false" })).toEqual({ PATH: "/bin", CI: "true", RAILWAY_NO_AUTO_UPDATE: "1" });
});

it("redact removes every occurrence of each secret", () => {
  expect(redact("a SECRET b SECRET c OTHER", ["SECRET", undefined, "OTHER"])).toBe("a [redacted] b [redacted] c [redacted]");
});

describe("Railway output readers", () => {
  it("reads the domain in every shape `railway domain --json` prints, Railway-provided first", () => {
    expect(domainsFromDomainCommand('{"domain":"https://x.up.railway.app"}')).toEqual(["x.up.railway.app"]);
    expect(domainsFromDomainCommand('{"domains":["https://api.example.com","https://x.up.railway.app/"]}')).toEqual(["x.up.railway.app", "api.example.com"]);
    expect(domainsFromDomainCommand("Domains already exists on the service:\n🚀 https://x.up.railway.app\n")).toEqual(["x.up.railway.app"]);
    expect(domainsFromDomainCommand("Service domain: x.up.railway.app (see docs.railway.com)")).toEqual(["x.up.railway.app"]);
  });

  it("refuses malformed domain JSON", () => {
    expect(() => domainsFromDomainCommand('{"domain": ')).toThrow(/not JSON/);
    expect(() => domainsFromDomainCommand('{"domains": [1]}')).toThrow(/expected \{"domain"/);
  });

  it("reads `domain list --json`, service domains first", () => {
    const listed = domainsFromDomainList(
      JSON.stringify({ domains: [{ domain: "api.example.com", type: "custom" }, { domain: "x.up.railway.app", type: "service", targetPort: 8501 }] }),
    );
    expect(listed).toEqual([
      { host: "x.up.railway.app", type: "service", targetPort: 8501 },
      { host: "api.example.com", type: "custom", targetPort: undefined },
    ]);
  });

  it("picks the newest deployment by createdAt, not by position", () => {
    const list = [
      { id: "new", status: "BUILDING", createdAt: "2026-11-26T20:00:00Z" },
      { id: "old", status: "SUCCESS", createdAt: "2026-11-01T00:00:00Z" },
    ];
    expect(newestDeployment(JSON.stringify([...list].reverse()))?.id).toBe("new");
    expect(newestDeployment("[]")).toBeUndefined();
    expect(() => newestDeployment("Deployments: {")).toThrow(/deployment list --json` printed something that is not JSON/);
    expect(() => newestDeployment('[{"id": "x"}]')).toThrow(/without an id or status/);
  });

  it("reads `railway up --json`: final status, errors, and the broken log stream", () => {
    const stdout = ['{"message":"Step 1/6"}', "{ not json", '{"status":"failed"}'].join("\n");
    expect(readUploadOutput(stdout, "")).toEqual({ status: "failed", errors: [], streamBroke: false });
    expect(readUploadOutput('{"error":"413 Payload Too Large","hint":"upload less"}', "")).toEqual({
      status: undefined,
      errors: ["413 Payload Too Large (upload less)"],
      streamBroke: false,
    });
    expect(readUploadOutput("", "Failed to stream build logs: reset").streamBroke).toBe(true);
  });

  it("parseDeployResult reads the last line and insists on a bare host", () => {
    const line = JSON.stringify({ host: "x.up.railway.app", url: "https://x.up.railway.app", deploymentId: "d-1" });
    expect(parseDeployResult(`noise\n${line}\n`)).toEqual({ host: "x.up.railway.app", url: "https://x.up.railway.app", deploymentId: "d-1" });
    expect(() => parseDeployResult(JSON.stringify({ host: "https://x.up.railway.app", url: "u", deploymentId: "d" }))).toThrow(/bare hostname/);
    expect(() => parseDeployResult(JSON.stringify({ host: "x.up.railway.app" }))).toThrow(/lacks host, url or deploymentId/);
    expect(() => parseDeployResult("Deployed!")).toThrow(/not JSON/);
  });

  it("bareHost strips scheme and path and refuses non-hosts", () => {
    expect(bareHost("HTTPS://X.up.railway.app/v1")).toBe("x.up.railway.app");
    expect(() => bareHost("not a host")).toThrow(/is not a domain name/);
  });
});
