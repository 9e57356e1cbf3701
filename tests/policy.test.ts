import {
  Policy,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_IMAGES, parseStackConfig } from "../components/config/stackConfig";
import { PROMETHEUS_PATHS, prometheusConfigInput, renderPrometheusConfig } from "../components/monitoring/prometheusConfig";
import { imageRefFor } from "../components/serving/TfServingImage";
import { ServingImageSpec, renderContextFiles } from "../components/serving/buildContext";
import { frontDoorImageSpec } from "../components/frontDoor/image";
import { parse } from "./support/configParse";
import { policies } from "../policy/policies";
import {
  StackResource,
  TYPES,
  buildContextOf,
  grafanaPasswordProblems,
  imagePinProblems,
  isGrafanaImage,
  monitoringProblems,
  publicPortProblems,
  scrapeIntervalProblems,
} from "../policy/rules";

// Runtime exports the SDK's typings leave out: validations see props through this proxy.
const sdk = jest.requireActual("@pulumi/policy/proxy") as {
  unknownCheckingProxy: <T>(props: T) => T;
  UnknownValueError: new (...args: unknown[]) => Error;
  unknownStringValue: string;
  unknownArrayValue: string;
};
const viaSdk = <T>(props: T) => sdk.unknownCheckingProxy(props);

const stackConfig = (values: Record<string, string> = {}) =>
  parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", ...values } });

describe("images-pinned", () => {
  test("accepts the default images and the TF Serving image's content-hash tag", () => {
    for (const image of Object.values(DEFAULT_IMAGES)) expect(imagePinProblems(TYPES.container, { image })).toEqual([]);
    const ours = imageRefFor("diabetes-prediction", "0123456789abcdef0123");
    expect(imagePinProblems(TYPES.container, { image: ours })).toEqual([]);
    expect(imagePinProblems(TYPES.image, { imageName: ours })).toEqual([]);
    expect(imagePinProblems(TYPES.remoteImage, { name: `grafana/grafana@sha256:${"a".repeat(64)}` })).toEqual([]);
  });

  test.each([
    [TYPES.container, { image: "prom/prometheus" }, /image "prom\/prometheus" has no tag/],
    [TYPES.container, { image: "grafana/grafana:latest" }, /latest/],
    [TYPES.container, { image: "localhost:5000/prometheus" }, /has no tag/],
    [TYPES.image, { imageName: "tfserving-platform/diabetes-prediction" }, /imageName .* has no tag/],
    [TYPES.remoteImage, { name: "tensorflow/serving:latest" }, /name .* latest/],
    [TYPES.container, {}, /image "" is missing/],
  ])("rejects %s %j", (type, props, message) => {
    const problems = imagePinProblems(type, props);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  test("ignores resources that name no image", () => {
    expect(imagePinProblems(TYPES.command, { image: "busybox" })).toEqual([]);
  });
});

describe("host-ports-loopback-only", () => {
  const port = (ip?: string) => ({ internal: 9090, external: 9090, ...(ip === undefined ? {} : { ip }) });

  test("accepts ports bound to loopback and containers without ports", () => {
    expect(publicPortProblems({ ports: [port("127.0.0.1"), port("127.0.0.2"), port("::1")] }, false)).toEqual([]);
    expect(publicPortProblems({}, false)).toEqual([]);
  });

  test.each([[undefined], ["0.0.0.0"], [""], ["192.168.1.10"], ["::"]])("rejects a port bound to %p", (ip) => {
    const problems = publicPortProblems({ ports: [port("127.0.0.1"), port(ip)] }, false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/publishes container port 9090 on .*:9090; bind it to 127\.0\.0\.1/);
  });

  test("a port without ip is reported as all interfaces", () => {
    expect(publicPortProblems({ ports: [port()] }, false)[0]).toMatch(/on all interfaces:9090/);
  });

  test("rejects host networking", () => {
    expect(publicPortProblems({ networkMode: "host" }, false)).toEqual([expect.stringMatching(/network mode host/)]);
  });

  test("a stack that sets allowPublicPorts may publish anywhere", () => {
    expect(publicPortProblems({ ports: [port("0.0.0.0"), port()], networkMode: "host" }, true)).toEqual([]);
  });
});

describe("grafana-admin-password-generated", () => {
  const password: StackResource = { type: TYPES.randomPassword, urn: "urn:password", props: { result: "s3cr3tGenerated" } };
  const grafana = (value: string): StackResource => ({
    type: TYPES.container,
    urn: "urn:grafana",
    props: { envs: ["GF_SECURITY_ADMIN_USER=admin", `GF_SECURITY_ADMIN_PASSWORD=${value}`, "GF_USERS_ALLOW_SIGN_UP=false"] },
  });
  const prometheus: StackResource = { type: TYPES.container, urn: "urn:prometheus", props: { image: "prom/prometheus:v3.13.1" } };

  test("accepts a password that is a RandomPassword's result", () => {
    expect(grafanaPasswordProblems([password, grafana("s3cr3tGenerated"), prometheus])).toEqual([]);
  });

  test("ignores containers without the variable", () => {
    expect(grafanaPasswordProblems([prometheus])).toEqual([]);
  });

  test("rejects a literal password, naming the container", () => {
    expect(grafanaPasswordProblems([password, grafana("admin"), prometheus])).toEqual([
      { urn: "urn:grafana", problem: expect.stringMatching(/GF_SECURITY_ADMIN_PASSWORD is not the result of a random.RandomPassword/) },
    ]);
  });

  test("rejects any password when the stack generates none", () => {
    expect(grafanaPasswordProblems([grafana("s3cr3tGenerated")])).toHaveLength(1);
  });

  test("rejects a Grafana container that sets no password (Grafana's default is admin)", () => {
    const unset: StackResource = { type: TYPES.container, urn: "urn:grafana", props: { image: "grafana/grafana:13.0.1", envs: ["GF_USERS_ALLOW_SIGN_UP=false"] } };
    expect(grafanaPasswordProblems([password, unset])).toEqual([
      { urn: "urn:grafana", problem: expect.stringMatching(/GF_SECURITY_ADMIN_PASSWORD is not set/) },
    ]);
  });

  test.each([
    ["grafana/grafana:13.0.1", true],
    ["docker.io/grafana/grafana-oss:11.0.0", true],
    [`localhost:5000/grafana/grafana-enterprise@sha256:${"a".repeat(64)}`, true],
    ["prom/prometheus:v3.13.1", false],
    ["grafana/loki:3.0.0", false],
    ["localhost:5000/grafana-proxy:1", false],
    [undefined, false],
  ])("isGrafanaImage(%p) is %p", (ref, expected) => {
    expect(isGrafanaImage(ref)).toBe(expected);
  });
});

describe("tfserving-monitoring-enabled", () => {
  const spec: ServingImageSpec = {
    baseImage: DEFAULT_IMAGES.tfServing,
    modelName: "diabetes-prediction",
    restPort: 8501,
    grpcPort: 8500,
    metricsPath: "/monitoring/prometheus/metrics",
    frontDoor: frontDoorImageSpec(parse({})),
  };
  let projectDir: string;
  const contextDir = ".build/dev/tfserving";

  /** Writes the project's own rendered context files, with overrides, under projectDir/contextDir. */
  function writeContext(overrides: Record<string, string | null> = {}): void {
    const root = path.join(projectDir, contextDir);
    fs.rmSync(root, { recursive: true, force: true });
    const files = { ...renderContextFiles(spec, "#!/bin/sh\n"), ...overrides };
    for (const [relative, content] of Object.entries(files)) {
      if (content === null) continue;
      fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
      fs.writeFileSync(path.join(root, relative), content);
    }
  }

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-context-"));
  });
  afterEach(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  test("accepts the rendered build context, relative to the project or absolute", () => {
    writeContext();
    expect(monitoringProblems(contextDir, projectDir)).toEqual([]);
    expect(monitoringProblems(path.join(projectDir, contextDir), "/elsewhere")).toEqual([]);
  });

  test("rejects a context whose monitoring config is off or missing", () => {
    writeContext({ "config/monitoring.config": 'prometheus_config {\n  enable: false\n  path: "/metrics"\n}\n' });
    expect(monitoringProblems(contextDir, projectDir)).toEqual([expect.stringMatching(/does not set prometheus_config \{ enable: true \}/)]);
    writeContext({ "config/monitoring.config": "# nothing\n" });
    expect(monitoringProblems(contextDir, projectDir)).toEqual([expect.stringMatching(/does not set prometheus_config/)]);
    writeContext({ "config/monitoring.config": null });
    expect(monitoringProblems(contextDir, projectDir)).toEqual([expect.stringMatching(/has no config\/monitoring.config/)]);
  });

  test("rejects a Dockerfile that does not hand the config to the server", () => {
    writeContext({ Dockerfile: `FROM ${DEFAULT_IMAGES.tfServing}\nCOPY model/ /models/diabetes-prediction/\n` });
    expect(monitoringProblems(contextDir, projectDir)).toEqual([expect.stringMatching(/Dockerfile does not pass the monitoring config/)]);
  });

  test("rejects a context folder that does not exist", () => {
    expect(monitoringProblems(contextDir, projectDir)).toHaveLength(2);
  });

  test("finds the context of a docker.Image and of the Railway deploy command", () => {
    expect(buildContextOf(TYPES.image, { build: { context: contextDir } })).toBe(contextDir);
    expect(buildContextOf(TYPES.command, { environment: { DEPLOY_CONTEXT_DIR: ".build/prod/tfserving" } })).toBe(".build/prod/tfserving");
    expect(buildContextOf(TYPES.command, { environment: { SERVING_URL: "http://127.0.0.1:8501" } })).toBeUndefined();
    expect(buildContextOf(TYPES.container, { build: { context: contextDir } })).toBeUndefined();
  });
});

describe("scrape-interval-bounds", () => {
  const prometheusContainer = (values: Record<string, string>) => {
    const config = stackConfig(values);
    const content = renderPrometheusConfig(prometheusConfigInput(config, { target: "tfserving-dev-serving:8501", scheme: "http" }));
    return { uploads: [{ file: PROMETHEUS_PATHS.config, content }] };
  };

  test("accepts the program's prometheus.yml and the bounds themselves", () => {
    expect(scrapeIntervalProblems(prometheusContainer({}))).toEqual([]);
    expect(scrapeIntervalProblems(prometheusContainer({ scrapeInterval: "1s", globalScrapeInterval: "5m" }))).toEqual([]);
  });

  test.each([
    [{ scrapeInterval: "10m" }, /job tf-serving-local scrape_interval "10m" is outside 1s..5m/],
    [{ scrapeInterval: "500ms", scrapeTimeout: "400ms" }, /job tf-serving-local scrape_interval "500ms"/],
    [{ globalScrapeInterval: "1h" }, /global scrape_interval "1h"/],
  ])("rejects %j", (values, message) => {
    expect(scrapeIntervalProblems(prometheusContainer(values))).toEqual([expect.stringMatching(message)]);
  });

  test("rejects an interval that is not a duration and a config that is not YAML", () => {
    const upload = (content: string) => ({ uploads: [{ file: PROMETHEUS_PATHS.config, content }] });
    expect(scrapeIntervalProblems(upload("scrape_configs:\n  - job_name: a\n    scrape_interval: 5\n"))).toEqual([
      expect.stringMatching(/job a scrape_interval "5"/),
    ]);
    expect(scrapeIntervalProblems(upload("global: [unclosed"))).toEqual([expect.stringMatching(/not valid YAML/)]);
  });

  test("ignores containers that upload no prometheus.yml", () => {
    expect(scrapeIntervalProblems({ uploads: [{ file: "/etc/other.yml", content: "scrape_interval: 1h" }] })).toEqual([]);
    expect(scrapeIntervalProblems({ image: DEFAULT_IMAGES.grafana })).toEqual([]);
  });
});

describe("under the SDK's unknown-checking proxy", () => {
  test("the rules read known props through it", () => {
    expect(publicPortProblems(viaSdk({ ports: [{ internal: 3000, external: 3000, ip: "0.0.0.0" }] }), false)).toHaveLength(1);
    const content = "global:\n  scrape_interval: 10m\n";
    expect(scrapeIntervalProblems(viaSdk({ uploads: [{ file: PROMETHEUS_PATHS.config, content }] }))).toHaveLength(1);
  });

  test("an unknown value stops a rule instead of passing it, so the SDK reports it as not checkable in preview", () => {
    const unknownPassword = viaSdk({ envs: ["GF_SECURITY_ADMIN_USER=admin", sdk.unknownStringValue] });
    expect(() => grafanaPasswordProblems([{ type: TYPES.container, urn: "urn:grafana", props: unknownPassword }])).toThrow(
      sdk.UnknownValueError,
    );
    const unknownYml = viaSdk({ uploads: [{ file: PROMETHEUS_PATHS.config, content: sdk.unknownStringValue }] });
    expect(() => scrapeIntervalProblems(unknownYml)).toThrow(sdk.UnknownValueError);
    expect(() => publicPortProblems(viaSdk({ ports: sdk.unknownArrayValue }), false)).toThrow(sdk.UnknownValueError);
  });
});

describe("the pack's wiring", () => {
  const byName = (name: string): Policy => {
    const policy = policies.find((candidate) => candidate.name === name);
    if (!policy) throw new Error(`no policy ${name}`);
    return policy;
  };

  /** Runs a resource policy the way the SDK's analyzer does: props behind its proxy, config from the stack's policy config. */
  async function violationsOf(name: string, type: string, props: Record<string, unknown>, config: Record<string, unknown> = {}) {
    const violations: string[] = [];
    const validations = (byName(name) as ResourceValidationPolicy).validateResource as ResourceValidation;
    const args = { type, props: viaSdk(props), urn: `urn:pulumi:dev::tfserving-platform::${type}::r`, name: "r", getConfig: () => config };
    await validations(args as unknown as ResourceValidationArgs, (message) => violations.push(message));
    return violations;
  }

  test("holds the six policies, all mandatory", () => {
    expect(policies.map((policy) => [policy.name, policy.enforcementLevel])).toEqual([
      ["images-pinned", "mandatory"],
      ["host-ports-loopback-only", "mandatory"],
      ["grafana-admin-password-generated", "mandatory"],
      ["tfserving-monitoring-enabled", "mandatory"],
      ["scrape-interval-bounds", "mandatory"],
      ["remote-write-receiver-authenticated", "mandatory"],
    ]);
  });

  test("images-pinned reports an unpinned container image", async () => {
    expect(await violationsOf("images-pinned", TYPES.container, { image: "grafana/grafana:latest" })).toHaveLength(1);
    expect(await violationsOf("images-pinned", TYPES.container, { image: DEFAULT_IMAGES.grafana })).toEqual([]);
  });

  test("host-ports-loopback-only reads allowPublicPorts from the policy config, off unless set", async () => {
    const props = { ports: [{ internal: 3000, external: 3000, ip: "0.0.0.0" }] };
    expect(byName("host-ports-loopback-only").configSchema?.properties.allowPublicPorts).toEqual({ type: "boolean", default: false });
    expect(await violationsOf("host-ports-loopback-only", TYPES.container, props)).toHaveLength(1);
    expect(await violationsOf("host-ports-loopback-only", TYPES.container, props, { allowPublicPorts: false })).toHaveLength(1);
    expect(await violationsOf("host-ports-loopback-only", TYPES.container, props, { allowPublicPorts: true })).toEqual([]);
  });

  test("tfserving-monitoring-enabled checks a docker.Image's build context", async () => {
    const missing = path.join(os.tmpdir(), "policy-no-such-context");
    expect(await violationsOf("tfserving-monitoring-enabled", TYPES.image, { build: { context: missing } })).toHaveLength(2);
    expect(await violationsOf("tfserving-monitoring-enabled", TYPES.container, { image: DEFAULT_IMAGES.grafana })).toEqual([]);
  });

  test("scrape-interval-bounds checks a container's uploaded prometheus.yml", async () => {
    const uploads = [{ file: PROMETHEUS_PATHS.config, content: "global:\n  scrape_interval: 1h\n" }];
    expect(await violationsOf("scrape-interval-bounds", TYPES.container, { uploads })).toHaveLength(1);
  });

  test("grafana-admin-password-generated reports the offending container by URN", async () => {
    const violations: [string, string | undefined][] = [];
    const resources = [
      { type: TYPES.randomPassword, urn: "urn:password", props: viaSdk({ result: "generated" }) },
      { type: TYPES.container, urn: "urn:grafana", props: viaSdk({ envs: ["GF_SECURITY_ADMIN_PASSWORD=admin"] }) },
    ];
    const policy = byName("grafana-admin-password-generated") as StackValidationPolicy;
    await policy.validateStack({ resources, getConfig: () => ({}) } as unknown as StackValidationArgs, (message, urn) =>
      violations.push([message, urn]),
    );
    expect(violations).toEqual([[expect.stringMatching(/GF_SECURITY_ADMIN_PASSWORD/), "urn:grafana"]]);
  });
});

describe("the pack's install", () => {
  const POLICY_DIR = path.join(__dirname, "..", "policy");
  const manifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));

  test("declares exactly the versions the root install provides", () => {
    const root = manifest(path.join(__dirname, ".."));
    const rootVersions = { ...root.dependencies, ...root.devDependencies };
    for (const [name, version] of Object.entries(manifest(POLICY_DIR).dependencies as Record<string, string>)) {
      expect([name, rootVersions[name]]).toEqual([name, version]);
    }
  });

  // What `pulumi preview --policy-pack policy` does: resolve the runner from the pack's folder, run it there
  // (ts-node type-checks the pack), and read the analyzer's port from stdout.
  test("starts under Pulumi's policy-pack runner with nothing installed in policy/", async () => {
    expect(fs.existsSync(path.join(POLICY_DIR, "node_modules"))).toBe(false);
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_DIR] });
    const child = spawn(process.execPath, [runner, "unused-engine-address", "."], { cwd: POLICY_DIR });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    try {
      const exit = await new Promise<number | null>((resolve) => {
        child.on("exit", resolve);
        child.stdout.on("data", () => /^\d+\n/.test(stdout) && resolve(null));
      });
      expect({ exit, stdout, stderr }).toEqual({ exit: null, stdout: expect.stringMatching(/^\d+\n$/), stderr: "" });
    } finally {
      child.kill();
    }
  }, 120_000);
});
