import bcrypt from "bcryptjs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { DEFAULT_IMAGES } from "../components/config/stackConfig";
import { PROMETHEUS_PATHS } from "../components/monitoring/prometheusConfig";
import { RECEIVER_PATHS } from "../components/monitoring/receiverConfig";
import { makeModelDir, removeDir } from "./support/modelFixture";
import { PROJECT_DIR, RegisteredResource, runProgram, stackRunOptions } from "./support/program";
import { SECRET_SIG, SECRET_VALUE } from "./support/secrets";

const CONTAINER = "docker:index/container:Container";
const isSecret = (value: unknown) => typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
const unwrap = <T>(value: unknown): T => (isSecret(value) ? (value as { value: T }).value : (value as T));
// What the mocked random.RandomPassword returns (tests/support/mockProgram.ts).
const RECEIVER_PASSWORD = "mock-password-receiver-password";

type Upload = { file: string; content: string };
const uploadsOf = (container: RegisteredResource) => unwrap<Upload[]>(container.inputs.uploads);
const upload = (container: RegisteredResource, file: string) => uploadsOf(container).find((entry) => entry.file === file)?.content;
const contextFile = (stack: string, file: string) => fs.readFileSync(path.join(PROJECT_DIR, ".build", stack, "tfserving", file), "utf8");

describe("push mode under mocks", () => {
  let modelDir: string;
  let certDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-cert-"));
    fs.writeFileSync(path.join(certDir, "receiver.crt"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  });
  afterAll(() => {
    removeDir(modelDir);
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  it("dev: the image carries the agent pushing over the stack network; Prometheus receives with basic auth and scrapes no TF Serving", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, metricsMode: "push" } });

    const dockerfile = contextFile("dev", "Dockerfile");
    expect(dockerfile.split("\n").filter((line) => line.startsWith("FROM "))).toEqual([
      `FROM --platform=linux/amd64 ${DEFAULT_IMAGES.prometheus} AS prometheus-agent`,
      `FROM --platform=linux/amd64 ${DEFAULT_IMAGES.caddy} AS front-door`,
      `FROM --platform=linux/amd64 ${DEFAULT_IMAGES.tfServing}`,
    ]);
    expect(dockerfile).toContain("COPY --from=prometheus-agent /bin/prometheus /usr/local/bin/prometheus");
    expect(dockerfile).toContain("METRICS_MODE=push");
    const agent = parse(contextFile("dev", "config/agent.yml"));
    expect(agent.remote_write[0].url).toBe("http://tfserving-dev-prometheus:9090/api/v1/write");
    // TF Serving behind the front door and the door's own metrics, both on loopback, in one job.
    expect(agent.scrape_configs[0]).toMatchObject({
      job_name: "tf-serving-local",
      static_configs: [{ targets: ["127.0.0.1:18501"] }, { targets: ["127.0.0.1:9096"], labels: { __metrics_path__: "/metrics", component: "edge" } }],
    });
    // The version the image serves labels every pushed series.
    expect(agent.global.external_labels.model_version).toBe("1763528202");
    expect(dockerfile + JSON.stringify(agent)).not.toContain(RECEIVER_PASSWORD);

    // The serving container gets the password as a secret variable only.
    const serving = run.one(CONTAINER, "serving");
    expect(isSecret(serving.inputs.envs)).toBe(true);
    expect(unwrap<string[]>(serving.inputs.envs)).toEqual(["FRONT_DOOR_KEY_DEV=mock-password-front-door-dev", `METRICS_RECEIVER_PASSWORD=${RECEIVER_PASSWORD}`]);

    const prometheus = run.one(CONTAINER, "prometheus");
    expect(prometheus.inputs.command).toEqual(expect.arrayContaining([`--web.config.file=${RECEIVER_PATHS.webConfig}`, "--web.enable-remote-write-receiver"]));
    expect(isSecret(prometheus.inputs.uploads)).toBe(true);
    const web = parse(upload(prometheus, RECEIVER_PATHS.webConfig)!);
    expect(bcrypt.compareSync(RECEIVER_PASSWORD, web.basic_auth_users.tfserving)).toBe(true);
    expect(web.tls_server_config).toBeUndefined();
    expect(upload(prometheus, RECEIVER_PATHS.password)).toBe(RECEIVER_PASSWORD);
    const config = parse(upload(prometheus, PROMETHEUS_PATHS.config)!);
    expect(config.scrape_configs.map((job: { job_name: string }) => job.job_name)).toEqual(["prometheus"]);
    expect(upload(prometheus, PROMETHEUS_PATHS.rules)).toContain("absent_over_time(up{job=\"tf-serving-local\"}[2m])");
    // The health check logs in through promtool and the password file: nothing secret in the container's config.
    expect((prometheus.inputs.healthcheck as { tests: string[] }).tests).toEqual([
      "CMD", "promtool", "check", "ready", "--url=http://127.0.0.1:9090", `--http.config.file=${RECEIVER_PATHS.healthcheck}`,
    ]);
    expect(prometheus.inputs.ports).toEqual([expect.objectContaining({ internal: 9090, external: 9090, ip: "127.0.0.1" })]);

    const dataSource = run.one("grafana:oss/dataSource:DataSource");
    expect(dataSource.inputs).toMatchObject({ basicAuthEnabled: true, basicAuthUsername: "tfserving" });
    expect(isSecret(dataSource.inputs.secureJsonDataEncoded)).toBe(true);
    expect(JSON.parse(unwrap<string>(dataSource.inputs.secureJsonDataEncoded))).toEqual({ basicAuthPassword: RECEIVER_PASSWORD });

    // The password is in secret inputs only, and in no stack output.
    expect(JSON.stringify(run.outputs)).not.toContain(RECEIVER_PASSWORD);
    for (const resource of run.resources) {
      for (const [name, value] of Object.entries(resource.inputs)) {
        if (name === "result" || isSecret(value)) continue;
        expect({ resource: resource.name, name, leaks: JSON.stringify(value).includes(RECEIVER_PASSWORD) }).toEqual({ resource: resource.name, name, leaks: false });
      }
    }
  });

  it("the same program twice renders the same web config (a no-op pulumi up stays a no-op)", async () => {
    const first = await runProgram({ stack: "dev", config: { modelDir, metricsMode: "push" } });
    const second = await runProgram({ stack: "dev", config: { modelDir, metricsMode: "push" } });
    const web = (run: typeof first) => upload(run.one(CONTAINER, "prometheus"), RECEIVER_PATHS.webConfig);
    expect(web(second)).toBe(web(first));
  });

  it("prod: replicas push to receiverUrl over TLS; the deploy sets the password variable; the receiver is published with TLS", async () => {
    const run = await runProgram(
      stackRunOptions("prod", modelDir, {
        extraConfig: {
          metricsMode: "push",
          receiverUrl: "https://metrics.example.com:9443/api/v1/write",
          receiverHostPort: "9443",
          receiverTlsCertFile: path.join(certDir, "receiver.crt"),
          receiverTlsKey: "-----BEGIN PRIVATE KEY-----\nsecret-key\n-----END PRIVATE KEY-----\n",
        },
      }),
    );
    const deploy = run.one("command:local:Command", "serving-deploy");
    const environment = unwrap<Record<string, string>>(deploy.inputs.environment);
    expect(isSecret(deploy.inputs.environment)).toBe(true);
    expect(environment.DEPLOY_RECEIVER_PASSWORD).toBe(RECEIVER_PASSWORD);
    expect(unwrap<unknown[]>(deploy.inputs.triggers)).toHaveLength(5);

    const agent = parse(contextFile("prod", "config/agent.yml"));
    // The public domain serves the metrics only at the unguessable path the agent scrapes.
    const servedPath = agent.scrape_configs[0].metrics_path as string;
    expect(servedPath).toMatch(/^\/monitoring\/prometheus\/metrics\/[0-9a-f]{32}$/);
    expect(contextFile("prod", "config/monitoring.config")).toContain(`path: "${servedPath}"`);
    expect(run.secretOutputs.has("metricsUrl")).toBe(true);
    expect(run.outputs.metricsUrl).toBe(`https://diabetes-prod.up.railway.app${servedPath}`);
    expect(agent.remote_write[0]).toMatchObject({ url: "https://metrics.example.com:9443/api/v1/write", tls_config: { ca_file: "/etc/tfserving/receiver-ca.crt" } });
    expect(contextFile("prod", "config/receiver-ca.crt")).toContain("BEGIN CERTIFICATE");

    const prometheus = run.one(CONTAINER, "prometheus");
    expect(prometheus.inputs.ports).toEqual([
      expect.objectContaining({ internal: 9090, external: 9090, ip: "127.0.0.1" }),
      expect.objectContaining({ internal: 9090, external: 9443, ip: "0.0.0.0" }),
    ]);
    expect(parse(upload(prometheus, RECEIVER_PATHS.webConfig)!).tls_server_config).toMatchObject({ cert_file: RECEIVER_PATHS.cert, key_file: RECEIVER_PATHS.key });
    expect(upload(prometheus, RECEIVER_PATHS.key)).toContain("secret-key");
    expect(run.outputs.prometheusUrl).toBe("https://127.0.0.1:9090");
    const dataSource = run.one("grafana:oss/dataSource:DataSource");
    expect(JSON.parse(dataSource.inputs.jsonDataEncoded as string).tlsSkipVerify).toBe(true);
    expect(dataSource.inputs.url).toBe("https://tfserving-prod-prometheus:9090");
  });

  it("a missing receiver certificate fails before any resource, naming the key", async () => {
    await expect(
      runProgram({
        stack: "dev",
        config: { modelDir, metricsMode: "push", receiverUrl: "https://m.example.com/api/v1/write", receiverTlsCertFile: path.join(certDir, "missing.crt"), receiverTlsKey: "k" },
        secretKeys: ["receiverTlsKey"],
      }),
    ).rejects.toThrow(/tfserving-platform:receiverTlsCertFile: cannot read/);
  });

  it("forwarding: Prometheus remote-writes to the store with the password from a secret file and the tenant header", async () => {
    const run = await runProgram({
      stack: "dev",
      config: {
        modelDir,
        remoteWriteUrl: "https://mimir.example.com/api/v1/push",
        remoteWriteUsername: "tenant-1",
        remoteWritePassword: "store-password",
        remoteWriteHeaders: '{"X-Scope-OrgID":"team-a"}',
      },
      secretKeys: ["remoteWritePassword"],
    });
    const prometheus = run.one(CONTAINER, "prometheus");
    expect(isSecret(prometheus.inputs.uploads)).toBe(true);
    const config = parse(upload(prometheus, PROMETHEUS_PATHS.config)!);
    expect(config.remote_write).toEqual([
      {
        url: "https://mimir.example.com/api/v1/push",
        protobuf_message: "prometheus.WriteRequest",
        basic_auth: { username: "tenant-1", password_file: "/etc/prometheus/remote-write.password" },
        headers: { "X-Scope-OrgID": "team-a" },
      },
    ]);
    expect(upload(prometheus, "/etc/prometheus/remote-write.password")).toBe("store-password");
    // Scrape mode is unchanged otherwise: TF Serving is scraped, no receiver.
    expect(config.scrape_configs[0].job_name).toBe("tf-serving-local");
    expect(prometheus.inputs.command).not.toContain("--web.enable-remote-write-receiver");
  });
});
