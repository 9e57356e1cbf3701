import bcrypt from "bcryptjs";
import * as fs from "node:fs";
import { parse } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { AGENT_PATHS, agentConfig, renderAgentConfig } from "../../components/monitoring/agentConfig";
import { prometheusConfig, prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { RECEIVER_PATHS, bcryptHash, renderHealthcheckHttpConfig, renderWebConfig, webConfig } from "../../components/monitoring/receiverConfig";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { promtool, tempDir, writeFile } from "../support/promtool";

const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model", metricsMode: "push" } });
const agentInput = {
  serving: { jobName: config.scrapeJobName, metricsPath: config.metricsPath, scrapeInterval: config.scrapeInterval, scrapeTimeout: config.scrapeTimeout },
  restPort: 18501,
  edgeMetricsPort: 9096,
  receiverUrl: "https://metrics.example.com/api/v1/write",
  trustReceiverCertificate: true,
};

describe("receiver password hash", () => {
  it("is a bcrypt hash of the password that bcrypt accepts, and rejects another password", () => {
    const hash = bcryptHash("s3cretPassw0rd");
    expect(hash).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcrypt.compareSync("s3cretPassw0rd", hash)).toBe(true);
    expect(bcrypt.compareSync("s3cretPassw0rD", hash)).toBe(false);
  });

  it("is the same on every run (a no-op pulumi up stays a no-op) and differs between passwords", () => {
    expect(bcryptHash("one-password")).toBe(bcryptHash("one-password"));
    expect(bcryptHash("one-password")).not.toBe(bcryptHash("another-password"));
    expect(bcrypt.getSalt(bcryptHash("one-password"))).not.toBe(bcrypt.getSalt(bcryptHash("another-password")));
  });
});

describe("push-mode renderers, checked by promtool", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("prometheus-push");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("agent config: scrapes TF Serving and the front door on loopback, labels replica and region from the environment, remote-writes 1.0 with basic auth", () => {
    const doc = agentConfig(agentInput);
    expect(doc.global).toEqual({ scrape_interval: "5s", scrape_timeout: "4s", external_labels: { replica: "${TFSERVING_REPLICA}", region: "${TFSERVING_REGION}" } });
    expect(doc.scrape_configs).toEqual([
      expect.objectContaining({
        job_name: "tf-serving-local",
        metrics_path: "/monitoring/prometheus/metrics",
        scheme: "http",
        // TF Serving behind the front door, and the door's own metrics in the same job, both on loopback.
        static_configs: [{ targets: ["127.0.0.1:18501"] }, { targets: ["127.0.0.1:9096"], labels: { __metrics_path__: "/metrics", component: "edge" } }],
      }),
    ]);
    expect(doc.remote_write).toEqual([
      {
        url: "https://metrics.example.com/api/v1/write",
        protobuf_message: "prometheus.WriteRequest",
        basic_auth: { username: "tfserving", password_file: AGENT_PATHS.passwordFile },
        tls_config: { ca_file: AGENT_PATHS.receiverCa },
      },
    ]);
    // promtool resolves files relative to the config: point them at real files for the check.
    const text = renderAgentConfig(agentInput).replace(AGENT_PATHS.passwordFile, writeFile(dir, "password", "x")).replace(AGENT_PATHS.receiverCa, writeFile(dir, "ca.crt", ""));
    const result = promtool("check", "config", "--agent", writeFile(dir, "agent.yml", text));
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("agent config: refuses a receiver URL that is not http(s), naming the key", () => {
    expect(() => agentConfig({ ...agentInput, receiverUrl: "ftp://x/api/v1/write" })).toThrow(/^tfserving-platform:receiverUrl/);
  });

  it("web config: basic auth with the bcrypt hash, TLS when asked, and promtool check web-config passes", () => {
    const hash = bcryptHash("pw");
    expect(webConfig({ passwordHash: hash, tls: false })).toEqual({ basic_auth_users: { tfserving: hash } });
    const withTls = webConfig({ passwordHash: hash, tls: true });
    expect(withTls.tls_server_config).toEqual({ cert_file: RECEIVER_PATHS.cert, key_file: RECEIVER_PATHS.key, min_version: "TLS12" });
    const file = writeFile(dir, "web.yml", renderWebConfig({ passwordHash: hash, tls: false }));
    const result = promtool("check", "web-config", file);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
    expect(() => webConfig({ passwordHash: "pw", tls: false })).toThrow(/not a bcrypt hash/);
  });

  it("promtool's check web-config rejects a plain password, so the check above can fail", () => {
    const file = writeFile(dir, "web.yml", "basic_auth_users:\n  tfserving: plain-password\n");
    expect(promtool("check", "web-config", file).status).not.toBe(0);
  });

  it("receiver prometheus.yml: no TF Serving scrape, a self-scrape that logs in, forwarding with auth and headers", () => {
    const rulesFile = writeFile(dir, "rules.yml", renderRules(ruleGroups(rulesInput(config))));
    const passwordFile = writeFile(dir, "remote.password", "x");
    const input = prometheusConfigInput(config, undefined, {
      ruleFiles: [rulesFile],
      receiver: { tls: true },
      remoteWrite: { url: "https://mimir.example.com/api/v1/push", basicAuth: { username: "tenant-1", passwordFile }, headers: { "X-Scope-OrgID": "team-a" } },
    });
    const doc = prometheusConfig(input) as { scrape_configs: Record<string, unknown>[]; remote_write: unknown[] };
    expect(doc.scrape_configs).toEqual([
      {
        job_name: "prometheus",
        scheme: "https",
        tls_config: { insecure_skip_verify: true },
        basic_auth: { username: "tfserving", password_file: RECEIVER_PATHS.password },
        static_configs: [{ targets: ["localhost:9090"] }],
      },
    ]);
    expect(doc.remote_write).toEqual([
      {
        url: "https://mimir.example.com/api/v1/push",
        protobuf_message: "prometheus.WriteRequest",
        basic_auth: { username: "tenant-1", password_file: passwordFile },
        headers: { "X-Scope-OrgID": "team-a" },
      },
    ]);
    const text = renderPrometheusConfig(input).replace(RECEIVER_PATHS.password, passwordFile);
    const result = promtool("check", "config", writeFile(dir, "prometheus.yml", text));
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("forwarding refuses headers Prometheus sets itself and a non-http URL, naming the key", () => {
    const base = prometheusConfigInput(config, undefined, {});
    expect(() => prometheusConfig({ ...base, remoteWrite: { url: "https://m/api/v1/push", headers: { Authorization: "Bearer x" } } })).toThrow(
      /^tfserving-platform:remoteWriteHeaders: Prometheus sets the header Authorization/,
    );
    expect(() => prometheusConfig({ ...base, remoteWrite: { url: "mimir:9009" } })).toThrow(/^tfserving-platform:remoteWriteUrl/);
  });

  it("health-check client config: the receiver login from its file, no name check on 127.0.0.1 with TLS", () => {
    expect(parse(renderHealthcheckHttpConfig(false))).toEqual({ basic_auth: { username: "tfserving", password_file: RECEIVER_PATHS.password } });
    expect(parse(renderHealthcheckHttpConfig(true)).tls_config).toEqual({ insecure_skip_verify: true });
  });
});
