import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const WORKFLOWS = path.join(__dirname, "..", ".github", "workflows");
/** The stacks each workflow runs pulumi for: pull requests preview prod only (dev is proven by the live job). */
const STACKS: Record<string, string[]> = { "pull-request.yml": ["prod"], "deploy.yml": ["dev", "prod"] };

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: { stack?: string[] } };
  concurrency?: { group?: string; "cancel-in-progress"?: boolean };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load(file: string): { text: string; workflow: Workflow } {
  const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
  return { text, workflow: parse(text) as Workflow };
}

const needsOf = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
/** The step that runs a pulumi command (pulumi/actions without a command only installs the CLI). */
const pulumiStep = (job: Job) => job.steps.find((step) => step.uses?.startsWith("pulumi/actions@") && step.with?.command !== undefined);

const CI_ENTRY = "bash .ci/run";

/** Jobs that run the test suite through the CI entry point, named so a pulumi job can be checked to need one. */
function testJobs(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, job]) => job.steps.some((step) => step.run?.trim() === CI_ENTRY))
    .map(([name]) => name);
}

describe(".ci/run, the entry point both workflows' test jobs call", () => {
  const script = fs.readFileSync(path.join(__dirname, "..", ".ci", "run"), "utf8");
  const commands = script.split("\n").map((line) => line.trim());

  test("runs npm ci, builds the monitoring tools, then npm test; never installs Debian's Prometheus 2", () => {
    expect(script).not.toMatch(/packages\+=\(prometheus/);
    const ci = commands.findIndex((line) => /^npm ci\b/.test(line));
    expect(ci).toBeGreaterThanOrEqual(0);
    const buildTools = commands.indexOf("npm run build:tools");
    expect(buildTools).toBeGreaterThan(ci);
    expect(commands.indexOf("npm test")).toBeGreaterThan(buildTools);
  });

  test("brings Node 24 LTS before npm ci when the machine's Node is older than 22, and runs the rest on it", () => {
    const lts = /^NODE_LTS=(\d+)\.\d+\.\d+$/m.exec(script)?.[1];
    expect(lts).toBe("24");
    const check = commands.findIndex((line) => line.includes("-lt 22 ]"));
    const onPath = commands.findIndex((line) => line.startsWith('export PATH="$PWD/.ci-node/package/bin:$PATH"'));
    expect(check).toBeGreaterThanOrEqual(0);
    expect(onPath).toBeGreaterThan(check);
    expect(commands.findIndex((line) => /^npm ci\b/.test(line))).toBeGreaterThan(onPath);
    expect(fs.readFileSync(path.join(__dirname, "..", ".gitignore"), "utf8").split("\n")).toContain(".ci-node/");
  });

  test("ignores the installed folders also as symlinks (a pattern ending in / matches only a real folder)", () => {
    const ignored = fs.readFileSync(path.join(__dirname, "..", ".gitignore"), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", ".venv", ".tools"]));
  });
});

describe.each(["pull-request.yml", "deploy.yml"])("%s", (file) => {
  const { text, workflow } = load(file);

  test("pins every action to a version, never a branch", () => {
    const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.uses ? [step.uses] : [])));
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses) {
      expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
      expect(ref).not.toMatch(/@(main|master)$/);
    }
    expect(uses).toEqual(expect.arrayContaining(["actions/checkout@v4", "actions/setup-node@v4", "pulumi/actions@v6"]));
  });

  test("sets up Node 24 LTS in every job, a release package.json's engines accepts", () => {
    const engines = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
    const minimumMajor = Number(/^>=(\d+)$/.exec(engines)?.[1]);
    const setups = Object.values(workflow.jobs).flatMap((job) => job.steps.filter((step) => step.uses === "actions/setup-node@v4"));
    expect(setups.length).toBeGreaterThan(0);
    for (const setup of setups) {
      expect(setup.with?.["node-version"]).toBe(24);
      expect(24).toBeGreaterThanOrEqual(minimumMajor);
    }
  });

  test("takes tokens only from GitHub secrets", () => {
    const envs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => step.env ?? {}));
    const pulumiEnv = Object.values(workflow.jobs).map(pulumiStep).find(Boolean)?.env;
    // The Railway token comes from prod's encrypted stack config, never from the workflow's environment.
    expect(pulumiEnv).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
    for (const env of envs) {
      for (const [name, value] of Object.entries(env)) {
        if (/TOKEN|SECRET|PASSWORD|KEY/i.test(name)) expect(value).toBe(`\${{ secrets.${name} }}`);
      }
    }
    // No Pulumi access token or Railway-looking literal anywhere in the file.
    expect(text).not.toMatch(/pul-[0-9a-f]{20,}/);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    for (const expression of text.match(/\$\{\{[^}]*\}\}/g) ?? []) {
      if (/TOKEN/i.test(expression)) expect(expression).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    }
  });

  test("job test checks out, sets up Node 24 with the npm cache, then runs .ci/run", () => {
    expect(testJobs(workflow)).toEqual(["test"]);
    const steps = workflow.jobs.test.steps;
    expect(steps[0].uses).toBe("actions/checkout@v4");
    const setupNode = steps.findIndex((step) => step.uses === "actions/setup-node@v4");
    expect(steps[setupNode].with).toMatchObject({ "node-version": 24, cache: "npm" });
    expect(steps.findIndex((step) => step.run?.trim() === CI_ENTRY)).toBeGreaterThan(setupNode);
  });

  test(`runs pulumi for ${STACKS[file].join(" and ")} only after the tests passed`, () => {
    const pulumiJobs = Object.entries(workflow.jobs).filter(([, job]) => pulumiStep(job));
    expect(pulumiJobs).toHaveLength(1);
    const [[, job]] = pulumiJobs;
    expect(job.strategy?.matrix?.stack).toEqual(STACKS[file]);
    expect(needsOf(job).some((need) => testJobs(workflow).includes(need))).toBe(true);
    expect(job.steps.findIndex((step) => /^npm ci\b/.test(step.run ?? ""))).toBeLessThan(job.steps.indexOf(pulumiStep(job)!));
    expect(pulumiStep(job)!.with).toMatchObject({ "stack-name": "${{ matrix.stack }}", policyPacks: "policy" });
  });

  test("grants no more than read access to the contents at the top level", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
  });
});

describe("pull-request.yml", () => {
  const { workflow } = load("pull-request.yml");
  const preview = workflow.jobs.preview;

  test("job preview is the one that runs pulumi", () => {
    expect(pulumiStep(preview)).toBeDefined();
  });

  test("triggers on pull requests only", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
  });

  test("previews with a refresh and comments on the PR", () => {
    expect(pulumiStep(preview)!.with).toMatchObject({ command: "preview", "comment-on-pr": true, refresh: true });
  });

  test("only the commenting job may write to pull requests", () => {
    expect(preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    for (const job of Object.values(workflow.jobs)) {
      if (job !== preview) expect(job.permissions?.["pull-requests"]).toBeUndefined();
    }
  });
});

describe("pull-request.yml: the live job", () => {
  const { text, workflow } = load("pull-request.yml");
  const live = workflow.jobs.live;

  test("runs npm run test:live after the tests passed, with the CLI installed by pulumi/actions and nothing else from it", () => {
    expect(needsOf(live)).toEqual(["test"]);
    const steps = live.steps;
    const npmCi = steps.findIndex((step) => /^npm ci\b/.test(step.run ?? ""));
    const installer = steps.findIndex((step) => step.uses === "pulumi/actions@v6");
    const run = steps.findIndex((step) => step.run?.trim() === "npm run test:live");
    expect(npmCi).toBeGreaterThanOrEqual(0);
    expect(installer).toBeGreaterThan(npmCi);
    expect(run).toBeGreaterThan(installer);
    // Install only: no command, no stack, no backend token (the live test brings its own file backend),
    // and the CLI of the SDK release the program is built with.
    const sdkVersion = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
    expect(steps[installer].with).toEqual({ "pulumi-version": sdkVersion });
    expect(pulumiStep(live)).toBeUndefined();
    expect(steps.some((step) => step.env !== undefined)).toBe(false);
  });

  test("always tears down whatever a failed teardown left, after the live test", () => {
    const run = live.steps.findIndex((step) => step.run?.trim() === "npm run test:live");
    const teardown = live.steps.findIndex((step) => step.if === "always()");
    expect(teardown).toBeGreaterThan(run);
    for (const kind of ["ps -aq", "volume ls -q", "network ls -q"]) expect(live.steps[teardown].run).toContain(`docker ${kind} --filter name=tfserving-live-`);
  });

  test("is bounded in time and reads the code only", () => {
    expect((live as Job & { "timeout-minutes"?: number })["timeout-minutes"]).toBeLessThanOrEqual(60);
    expect(live.permissions).toBeUndefined();
  });

  test("says why previews cover prod only", () => {
    expect(text).toMatch(/prod only\. dev's containers live on a developer's Docker engine/);
  });
});

describe("deploy.yml", () => {
  const { workflow } = load("deploy.yml");
  const up = workflow.jobs.up;

  test("job up is the one that runs pulumi", () => {
    expect(pulumiStep(up)).toBeDefined();
  });

  test("triggers on pushes to main only", () => {
    expect(workflow.on).toEqual({ push: { branches: ["main"] } });
  });

  test("runs a refreshed pulumi up, one update per stack at a time, never cancelling one", () => {
    expect(pulumiStep(up)!.with).toMatchObject({ command: "up", refresh: true });
    expect(up.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
  });

  test("never writes to the repository or pull requests", () => {
    for (const job of Object.values(workflow.jobs)) expect(job.permissions ?? { contents: "read" }).toEqual({ contents: "read" });
  });

  test("installs a pinned Railway CLI for prod's deploy command, before pulumi runs", () => {
    const install = up.steps.findIndex((step) => /npm install --global @railway\/cli@\d+\.\d+\.\d+$/.test(step.run ?? ""));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(up.steps[install].if).toBe("matrix.stack == 'prod'");
    expect(install).toBeLessThan(up.steps.indexOf(pulumiStep(up)!));
  });
});
