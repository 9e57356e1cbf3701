/**
 * scripts/deploy-railway.ts as a child process against a fake `railway` (tests/fixtures/fake-railway,
 * first on PATH) and a fake TF Serving on 127.0.0.1 (DEPLOY_VERIFY_URL), so nothing leaves this machine.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FakeTfServing, startFakeTfServing } from "./support/fakeTfServing";
import { PROJECT_DIR } from "./support/program";

const FAKE_RAILWAY_DIR = path.join(__dirname, "fixtures", "fake-railway");
const TOKEN = "rw-project-token-5f1d0c3a9e";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Arguments and environment flags of each fake `railway` call. */
  calls: { args: string[]; CI?: string; RAILWAY_NO_AUTO_UPDATE?: string }[];
  /** Variables the CLI read from its standard input. */
  stdinVariables: { name: string; value: string }[];
}

let stateDir: string;
let emptyDir: string;
let serving: FakeTfServing;

beforeAll(async () => {
  serving = await startFakeTfServing({ states: ["AVAILABLE"] });
  emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "no-railway-"));
});
afterAll(async () => {
  await serving.close();
  fs.rmSync(emptyDir, { recursive: true, force: true });
});
beforeEach(() => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-railway-"));
});
afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

function deploy(scenario: string, overrides: Record<string, string | undefined> = {}, args: string[] = []): Promise<Run> {
  const env: Record<string, string | undefined> = {
    PATH: `${FAKE_RAILWAY_DIR}${path.delimiter}${process.env.PATH}`,
    HOME: stateDir,
    FAKE_RAILWAY_SCENARIO: scenario,
    FAKE_RAILWAY_STATE: stateDir,
    RAILWAY_TOKEN: TOKEN,
    DEPLOY_SERVICE: "diabetes-prediction",
    DEPLOY_CONTEXT_DIR: ".build/prod/tfserving",
    DEPLOY_REST_PORT: "8501",
    DEPLOY_IMAGE_REF: "tfserving-platform/diabetes-prediction:0123456789ab",
    MODEL_NAME: "diabetes-prediction",
    TIMEOUT_SECONDS: "3",
    DEPLOY_POLL_INTERVAL_MS: "20",
    DEPLOY_VERIFY_URL: serving.url,
    ...overrides,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/deploy-railway.ts", ...args], {
      cwd: PROJECT_DIR,
      env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 25_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => {
      const callsFile = path.join(stateDir, "calls.jsonl");
      const readLines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line)) : []);
      resolve({ code, stdout, stderr, calls: readLines(callsFile), stdinVariables: readLines(path.join(stateDir, "stdin.jsonl")) });
    });
  });
}

function expectNoToken(run: Run): void {
  expect(run.stdout).not.toContain(TOKEN);
  expect(run.stderr).not.toContain(TOKEN);
  for (const call of run.calls) expect(call.args.join(" ")).not.toContain(TOKEN);
}

const SUCCESS_LINE = { host: "fake-svc.up.railway.app", url: "https://fake-svc.up.railway.app", deploymentId: "dep-new" };

describe("deploy-railway against a fake railway CLI", () => {
  it("deploys: pins PORT, uploads only the context, waits for SUCCESS, creates the domain, verifies, prints one JSON line", async () => {
    const predictionsBefore = serving.predictBodies.length;
    const run = await deploy("success");
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([JSON.stringify(SUCCESS_LINE)]);
    expect(run.calls.map((call) => call.args)).toEqual([
      ["variables", "--service", "diabetes-prediction", "--set", "PORT=8501", "--skip-deploys"],
      ["deployment", "list", "--service", "diabetes-prediction", "--json"],
      ["up", ".build/prod/tfserving", "--path-as-root", "--no-gitignore", "--service", "diabetes-prediction", "--json", "-m", "tfserving-platform/diabetes-prediction:0123456789ab"],
      ["deployment", "list", "--service", "diabetes-prediction", "--json"],
      ["deployment", "list", "--service", "diabetes-prediction", "--json"],
      ["domain", "list", "--service", "diabetes-prediction", "--json"],
      ["domain", "--service", "diabetes-prediction", "--port", "8501", "--json"],
    ]);
    expect(run.calls.every((call) => call.CI === "true" && call.RAILWAY_NO_AUTO_UPDATE === "1")).toBe(true);
    expect(run.stderr).toMatch(/deployment dep-new is BUILDING/);
    expect(serving.predictBodies.length).toBe(predictionsBefore + 1);
    expectNoToken(run);
  });

  it("push mode: sets the receiver password as a Railway variable through stdin, never in argv, and never prints it", async () => {
    const password = "receiver-pw-7d2e9b41c0";
    const run = await deploy("success", { DEPLOY_RECEIVER_PASSWORD: password });
    expect(run.code).toBe(0);
    expect(run.calls[0].args).toEqual(["variables", "--service", "diabetes-prediction", "--set", "PORT=8501", "--skip-deploys"]);
    expect(run.calls[1].args).toEqual(["variables", "--service", "diabetes-prediction", "--set-from-stdin", "METRICS_RECEIVER_PASSWORD", "--skip-deploys"]);
    expect(run.stdinVariables).toEqual([{ name: "METRICS_RECEIVER_PASSWORD", value: password }]);
    expect(run.calls.some((call) => call.args.join(" ").includes(password))).toBe(false);
    expect(run.stderr).toContain("Setting METRICS_RECEIVER_PASSWORD");
    expect(run.stdout + run.stderr).not.toContain(password);
    expectNoToken(run);
  });

  it("sets the front door's keys as Railway variables through stdin, never in argv, and never prints them or the check's key", async () => {
    const variables = { FRONT_DOOR_KEY_TEAM_A: "teamA-key-1f2e3d4c5b6a79880a1b2c3d4e5f", FRONT_DOOR_SCRAPE_KEY: "scrape-key-9a8b7c6d5e4f30211f2e3d4c5b6a" };
    const apiKey = variables.FRONT_DOOR_KEY_TEAM_A;
    const run = await deploy("success", { DEPLOY_FRONT_DOOR_VARIABLES: JSON.stringify(variables), TFSERVING_API_KEY: apiKey });
    expect(run.code).toBe(0);
    expect(run.stdinVariables).toEqual(Object.entries(variables).map(([name, value]) => ({ name, value })));
    for (const value of Object.values(variables)) {
      expect(run.calls.some((call) => call.args.join(" ").includes(value))).toBe(false);
      expect(run.stdout + run.stderr).not.toContain(value);
    }
    expect(run.stderr).toContain("Setting FRONT_DOOR_KEY_TEAM_A");
    expectNoToken(run);
  });

  it("passes when the build-log stream breaks but the deployment succeeded", async () => {
    const run = await deploy("stream-error");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(SUCCESS_LINE);
    expect(run.stderr).toMatch(/build-log stream broke; confirming with the deployment list/);
    expectNoToken(run);
  });

  it.each([
    ["domain-existing", "{\"domains\": [...]} with a custom domain first"],
    ["domain-plain", "the old plain-text form"],
  ])("reads the existing domain from %s (%s)", async (scenario) => {
    const run = await deploy(scenario);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(SUCCESS_LINE);
    expectNoToken(run);
  });

  it("only reads a domain that `domain list` already shows", async () => {
    const run = await deploy("domain-listed");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(SUCCESS_LINE);
    expect(run.calls.filter((call) => call.args[0] === "domain").map((call) => call.args[1])).toEqual(["list"]);
  });

  it.each([
    ["build-failed", /Railway reports the deployment FAILED/],
    ["crashed", /Railway reports the deployment CRASHED/],
    ["not-success", /The newest deployment dep-new is FAILED, not SUCCESS/],
    ["never-finishes", /No new deployment reached SUCCESS within 3s \(deployment dep-new is DEPLOYING\).*readinessTimeoutSeconds/],
    ["upload-refused", /`railway up` failed and no new deployment reached SUCCESS \(no new deployment yet\): Failed to upload code with status code 413/],
    ["malformed-json", /`railway deployment list --json` printed something that is not JSON: "Deployments: dep-old SUCCESS \{"/],
    ["domain-refused", /`railway domain --port 8501` failed \(exit 1\).*project token \(RAILWAY_TOKEN\) may not be allowed to create domains.*Generate Domain, port 8501/],
  ])("fails on %s with a message that says why", async (scenario, message) => {
    const run = await deploy(scenario);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expectNoToken(run);
  });

  it("fails with an install hint when the CLI is not on PATH", async () => {
    const run = await deploy("success", { PATH: emptyDir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Railway CLI not found \(looked for "railway"\).*npm i -g @railway\/cli.*brew install railway.*scoop install railway/);
    expect(run.calls).toEqual([]);
    expectNoToken(run);
  });

  it("runs the CLI named by RAILWAY_CLI (config railwayCli) when it is not on PATH", async () => {
    const run = await deploy("success", { PATH: process.env.PATH, RAILWAY_CLI: path.join(FAKE_RAILWAY_DIR, "railway") });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(SUCCESS_LINE);
    expect(run.calls.length).toBeGreaterThan(0);
  });

  it("works with an account token and project/environment ids, without the project-token hint on refusal", async () => {
    const accountEnv = { RAILWAY_TOKEN: undefined, RAILWAY_API_TOKEN: TOKEN, RAILWAY_PROJECT_ID: "proj-1", RAILWAY_ENVIRONMENT_ID: "production" };
    const ok = await deploy("success", accountEnv);
    expect(ok.code).toBe(0);
    const upload = ok.calls.find((call) => call.args[0] === "up")!;
    expect(upload.args.join(" ")).toContain("--service diabetes-prediction --project proj-1 --environment production --json");
    expectNoToken(ok);
    fs.rmSync(path.join(stateDir, "state.json"));
    fs.rmSync(path.join(stateDir, "calls.jsonl"));
    const refused = await deploy("domain-refused", accountEnv);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/`railway domain --port 8501` failed/);
    expect(refused.stderr).not.toMatch(/project token/);
    expectNoToken(refused);
  });

  it("refuses to start without a token, before running the CLI", async () => {
    const run = await deploy("success", { RAILWAY_TOKEN: undefined });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/No Railway token.*pulumi config set --secret tfserving-platform:railwayToken/);
    expect(run.calls).toEqual([]);
  });

  it("fails the rollout when the deployed model does not answer a prediction", async () => {
    const broken = await startFakeTfServing({ states: ["AVAILABLE"], predict: { status: 400, body: { error: "Could not parse example input" } } });
    try {
      const run = await deploy("success", { DEPLOY_VERIFY_URL: broken.url });
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/Deployment dep-new is SUCCESS, but .*AVAILABLE, but the test prediction .*: "Could not parse example input"/);
    } finally {
      await broken.close();
    }
  });
});

describe("deploy-railway as the command's update (token, CLI or timeout changed)", () => {
  it("deploys nothing and prints the previous run's result line again", async () => {
    const previous = `Deploying...\n${JSON.stringify(SUCCESS_LINE)}\n`;
    const run = await deploy("success", { PULUMI_COMMAND_STDOUT: previous, RAILWAY_TOKEN: "rotated-token" }, ["keep-deployment"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(SUCCESS_LINE)}\n`);
    expect(run.calls).toEqual([]);
  });

  it("fails, saying how to deploy again, when there is no earlier result to keep", async () => {
    const run = await deploy("success", {}, ["keep-deployment"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No earlier deploy result to keep.*pulumi up --replace/);
    expect(run.calls).toEqual([]);
  });
});
