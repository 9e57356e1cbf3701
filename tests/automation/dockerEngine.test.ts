import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DEFAULT_DOCKER_HOST,
  describeDockerEngine,
  dockerEngineFor,
  emulationNotice,
  parseContextInspect,
  resolveDockerEngine,
  stackDockerHost,
} from "../../scripts/automation/dockerEngine";
import { Runner, imagePresent, imageProblem, parseEngineInfo } from "../../scripts/automation/preflight";
import { buildStandinServingBase, docker, requireDocker, uniqueSuffix } from "../support/docker";
import { ScratchDockerd, startScratchDockerd } from "../support/scratchDockerd";

/** `docker context inspect` output of a context made by `docker context create colima --docker host=...` (Docker CLI 28). */
const colimaInspect = JSON.stringify([
  {
    Name: "colima",
    Metadata: { Description: "colima" },
    Endpoints: { docker: { Host: "unix:///Users/me/.colima/default/docker.sock", SkipTLSVerify: false } },
    TLSMaterial: {},
    Storage: { MetadataPath: "/Users/me/.docker/contexts/meta/abc", TLSPath: "/Users/me/.docker/contexts/tls/abc" },
  },
]);

describe("the Docker engine a deploy reaches", () => {
  it("reads the current context's endpoint, and its TLS folder when it has TLS material", () => {
    expect(parseContextInspect(colimaInspect)).toEqual({ name: "colima", host: "unix:///Users/me/.colima/default/docker.sock", skipTlsVerify: false });
    const remote = JSON.parse(colimaInspect);
    remote[0].Endpoints.docker.Host = "tcp://build.example.internal:2376";
    remote[0].TLSMaterial = { docker: ["ca.pem", "cert.pem", "key.pem"] };
    expect(parseContextInspect(JSON.stringify(remote))).toMatchObject({ tlsDir: path.join("/Users/me/.docker/contexts/tls/abc", "docker") });
    expect(parseContextInspect("not json")).toBeUndefined();
    expect(parseContextInspect("[]")).toBeUndefined();
  });

  it("passes the context's endpoint to Pulumi as DOCKER_HOST when nothing else names an engine", () => {
    const context = parseContextInspect(colimaInspect)!;
    const engine = resolveDockerEngine({ env: {}, stackFile: "Pulumi.dev.yaml", context });
    expect(engine.env).toEqual({ DOCKER_HOST: "unix:///Users/me/.colima/default/docker.sock" });
    expect(describeDockerEngine(engine)).toBe('Docker engine: unix:///Users/me/.colima/default/docker.sock (the docker context "colima"; passed to Pulumi as DOCKER_HOST)');
    // A TLS context also needs its certificates, which the provider finds through DOCKER_CERT_PATH.
    const tls = resolveDockerEngine({ env: {}, stackFile: "Pulumi.dev.yaml", context: { ...context, host: "tcp://h:2376", tlsDir: "/certs" } });
    expect(tls.env).toEqual({ DOCKER_HOST: "tcp://h:2376", DOCKER_CERT_PATH: "/certs", DOCKER_TLS_VERIFY: "1" });
  });

  it("leaves DOCKER_HOST and the stack's docker:host as they are (the provider reads them itself)", () => {
    const context = parseContextInspect(colimaInspect)!;
    const fromEnv = resolveDockerEngine({ env: { DOCKER_HOST: "ssh://me@box" }, stackFile: "Pulumi.dev.yaml", context });
    expect(fromEnv).toEqual({ host: "ssh://me@box", source: "DOCKER_HOST", env: {} });
    const stackHost = stackDockerHost("config:\n  docker:host: ssh://deploy@monitoring.example.internal\n  tfserving-platform:deployTarget: local\n");
    expect(stackHost).toBe("ssh://deploy@monitoring.example.internal");
    const fromStack = resolveDockerEngine({ env: { DOCKER_HOST: "ssh://me@box" }, stackFile: "Pulumi.dev.yaml", stackHost, context });
    expect(fromStack.env).toEqual({});
    expect(describeDockerEngine(fromStack)).toBe("Docker engine: ssh://deploy@monitoring.example.internal (docker:host in Pulumi.dev.yaml)");
    expect(stackDockerHost("config:\n  docker:host:\n    secure: v1:abc\n")).toBe("(a secret value)");
    expect(stackDockerHost("config:\n  tfserving-platform:deployTarget: local\n")).toBeUndefined();
    expect(stackDockerHost(undefined)).toBeUndefined();
  });

  it("names the provider's default when the CLI has no context to tell", () => {
    const engine = resolveDockerEngine({ env: {}, stackFile: "Pulumi.dev.yaml" });
    expect(engine.env).toEqual({});
    expect(describeDockerEngine(engine)).toContain(DEFAULT_DOCKER_HOST);
  });

  it("asks the Docker CLI for its context only when neither DOCKER_HOST nor docker:host decides", async () => {
    const calls: string[][] = [];
    const run: Runner = async (_command, args) => {
      calls.push(args);
      return { code: 0, output: colimaInspect };
    };
    const none = () => undefined;
    expect((await dockerEngineFor("/p", "dev", none, {}, run)).env.DOCKER_HOST).toBe("unix:///Users/me/.colima/default/docker.sock");
    expect(calls).toEqual([["context", "inspect"]]);
    await dockerEngineFor("/p", "dev", none, { DOCKER_HOST: "unix:///x.sock" }, run);
    await dockerEngineFor("/p", "dev", () => "config:\n  docker:host: unix:///y.sock\n", {}, run);
    expect(calls).toHaveLength(1);
  });
});

describe("a real second dockerd on a non-default socket, reached through a docker context", () => {
  let scratch: ScratchDockerd;
  let dockerConfig: string;
  beforeAll(async () => {
    requireDocker();
    scratch = await startScratchDockerd();
    // The user's contexts stay untouched: the CLI reads contexts from this DOCKER_CONFIG only.
    dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), "docker-config-"));
  }, 60_000);
  afterAll(async () => {
    await scratch?.stop();
    if (dockerConfig) fs.rmSync(dockerConfig, { recursive: true, force: true });
  }, 30_000);

  /** The Docker CLI as a user with that context selected and no DOCKER_HOST would run it. */
  const contextEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
    delete env.DOCKER_HOST;
    delete env.DOCKER_CONTEXT;
    return env;
  };
  const runWith = (env: NodeJS.ProcessEnv): Runner => (command, args, timeoutMs) =>
    new Promise((resolve) => {
      const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill(), timeoutMs);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });

  it("finds the context's socket, and docker info through DOCKER_HOST set to it answers from that engine", async () => {
    const env = contextEnv();
    for (const args of [["context", "create", "scratch", "--docker", `host=${scratch.host}`], ["context", "use", "scratch"]]) {
      const result = spawnSync("docker", args, { env, encoding: "utf8", timeout: 20_000 });
      expect(result.stderr).not.toMatch(/error/i);
      expect(result.status).toBe(0);
    }
    const engine = await dockerEngineFor(fs.mkdtempSync(path.join(os.tmpdir(), "project-")), "dev", () => undefined, env, runWith(env));
    expect(engine.env).toEqual({ DOCKER_HOST: scratch.host });
    expect(describeDockerEngine(engine)).toBe(`Docker engine: ${scratch.host} (the docker context "scratch"; passed to Pulumi as DOCKER_HOST)`);

    // What the Docker provider does with it: no context, only DOCKER_HOST (a fresh DOCKER_CONFIG has no contexts).
    const providerEnv: NodeJS.ProcessEnv = { ...process.env, ...engine.env, DOCKER_CONFIG: fs.mkdtempSync(path.join(os.tmpdir(), "no-context-")) };
    const info = spawnSync("docker", ["info", "--format", "{{.DockerRootDir}}"], { env: providerEnv, encoding: "utf8", timeout: 20_000 });
    expect(info.status).toBe(0);
    expect(info.stdout.trim()).toBe(scratch.dataRoot);
    fs.rmSync(providerEnv.DOCKER_CONFIG!, { recursive: true, force: true });
  }, 60_000);
});

describe("npm run pulumi: the Pulumi CLI reaches the engine of the Docker CLI's current context", () => {
  it("gets the context's endpoint as DOCKER_HOST, and a DOCKER_HOST of the user's as it is", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npm-run-pulumi-"));
    try {
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      // A stand-in `pulumi` that shows what it was given.
      fs.writeFileSync(path.join(bin, "pulumi"), '#!/bin/sh\necho "DOCKER_HOST=$DOCKER_HOST args=$*"\n', { mode: 0o755 });
      const env: NodeJS.ProcessEnv = { PATH: `${bin}${path.delimiter}${process.env.PATH}`, HOME: dir, DOCKER_CONFIG: path.join(dir, "docker-config"), PULUMI_BACKEND_URL: `file://${dir}/state` };
      const socket = `unix://${path.join(dir, "colima.sock")}`;
      for (const args of [["context", "create", "colima", "--docker", `host=${socket}`], ["context", "use", "colima"]]) expect(spawnSync("docker", args, { env, encoding: "utf8" }).status).toBe(0);
      const run = (extra: NodeJS.ProcessEnv) =>
        spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/pulumi.ts", "stack", "ls"], { cwd: path.resolve(__dirname, "..", ".."), env: { ...env, ...extra }, encoding: "utf8", timeout: 60_000 });
      expect(run({}).stdout.trim()).toBe(`DOCKER_HOST=${socket} args=stack ls`);
      expect(run({ DOCKER_HOST: "tcp://127.0.0.1:2375" }).stdout.trim()).toBe("DOCKER_HOST=tcp://127.0.0.1:2375 args=stack ls");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("images present on the engine are used without asking a registry", () => {
  const fake = (present: string[], pullOk: boolean) => {
    const calls: string[] = [];
    const run: Runner = async (_command, args) => {
      calls.push(args.slice(0, 2).join(" "));
      if (args[0] === "image") return present.includes(args[args.length - 1]) ? { code: 0, output: "sha256:1\n" } : { code: 1, output: `Error: No such image: ${args[args.length - 1]}\n` };
      return pullOk ? { code: 0, output: "" } : { code: 1, output: "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host\n" };
    };
    return { calls, run };
  };

  it("inspects first and pulls only a missing image; a failed pull names the image and Docker's reason", async () => {
    const present = fake(["prom/prometheus:v3.13.5"], false);
    await expect(imageProblem("prom/prometheus:v3.13.5", present.run)).resolves.toBeUndefined();
    expect(present.calls).toEqual(["image inspect"]);
    const missing = fake([], true);
    await expect(imageProblem("grafana/grafana:13.2.3", missing.run)).resolves.toBeUndefined();
    expect(missing.calls).toEqual(["image inspect", "pull grafana/grafana:13.2.3"]);
    const offline = fake([], false);
    await expect(imageProblem("grafana/grafana:13.2.3", offline.run)).resolves.toBe(
      'the image grafana/grafana:13.2.3, which is not on the Docker engine and cannot be pulled here (Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host)',
    );
  });

  it("on the real engine: a locally built image tagged like a registry image is present, an absent one is not", async () => {
    requireDocker();
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "image-present-"));
    const tag = `tensorflow/serving:standin-${uniqueSuffix()}`;
    try {
      buildStandinServingBase(workDir, tag);
      const pulls: string[] = [];
      const real: Runner = async (command, args, timeoutMs) => {
        if (args[0] === "pull") pulls.push(args[1]);
        const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
        return { code: result.status, output: `${result.stdout}${result.stderr}` };
      };
      await expect(imageProblem(tag, real)).resolves.toBeUndefined();
      expect(pulls).toEqual([]);
      await expect(imagePresent(`${tag}-absent`, real)).resolves.toBe(false);
    } finally {
      spawnSync("docker", ["image", "rm", "-f", tag], { timeout: 60_000 });
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("arm64 engines: one line before deploying", () => {
  it("reads the architecture out of docker info", () => {
    expect(parseEngineInfo("aarch64|Docker Desktop\n")).toEqual({ architecture: "aarch64", operatingSystem: "Docker Desktop" });
    expect(parseEngineInfo(docker(["info", "--format", "{{.Architecture}}|{{.OperatingSystem}}"]))).toMatchObject({ architecture: expect.stringMatching(/\S/) });
  });

  it("says TF Serving runs under amd64 emulation, that it needs AVX (no documented Docker Desktop setting), and how to serve another image", () => {
    const options = { stackName: "dev", pulumi: "npm run pulumi --", platformKey: "imagePlatform" };
    for (const architecture of ["aarch64", "arm64"]) {
      const line = emulationNotice(architecture, options)!;
      expect(line).not.toMatch(/\n/);
      expect(line).toMatch(/amd64 emulation/);
      expect(line).toMatch(/AVX/);
      expect(line).toMatch(/Use Rosetta for x86_64\/amd64 emulation on Apple Silicon/);
      expect(line).toContain("npm run pulumi -- config set -s dev tfserving-platform:tfServingImage");
      expect(line).toContain("tfserving-platform:imagePlatform linux/arm64");
    }
    expect(emulationNotice("x86_64", options)).toBeUndefined();
  });
});
