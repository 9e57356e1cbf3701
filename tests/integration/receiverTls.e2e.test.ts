/**
 * The push-mode receiver with TLS, with real Prometheus 3 binaries on 127.0.0.1: Prometheus started with
 * the rendered prometheus.yml and web config (https + basic auth), the health check promtool runs, and an
 * agent started with the rendered agent config that trusts exactly the receiver's certificate, pushing
 * series from a stand-in TF Serving metrics endpoint.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { parseStackConfig } from "../../components/config/stackConfig";
import { AGENT_LABEL_ENV, AGENT_PATHS, renderAgentConfig } from "../../components/monitoring/agentConfig";
import { prometheusConfigInput, renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { RECEIVER_PATHS, REMOTE_WRITE_PATH, bcryptHash, renderHealthcheckHttpConfig, renderWebConfig } from "../../components/monitoring/receiverConfig";
import { renderRules, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { monitoringTool } from "../support/monitoringTools";
import { tempDir } from "../support/promtool";
import { makeTestCertificates } from "../support/selfSignedCert";
import { freePort, waitFor } from "../support/serverProcess";

const PASSWORD = "receiver-tls-password-5e1b";
const config = parseStackConfig({
  stack: "dev",
  projectDir: "/project",
  values: { modelDir: "model", metricsMode: "push", scrapeInterval: "1s", globalScrapeInterval: "1s", evaluationInterval: "1s" },
});

interface Response {
  status: number;
  body: string;
}

/** An https GET to 127.0.0.1 trusting only `ca`, with the receiver login when given. */
function httpsGet(port: number, urlPath: string, ca: string, password?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host: "127.0.0.1", port, path: urlPath, ca, timeout: 5000, ...(password ? { auth: `tfserving:${password}` } : {}) },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
  });
}

describe("push-mode receiver with TLS and basic auth (real Prometheus 3)", () => {
  let dir: string;
  let ca: string;
  let receiverPort: number;
  const children: ChildProcess[] = [];
  let source: http.Server;
  let healthcheckFile: string;

  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(monitoringTool("prometheus"), args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-3000)));
    children.push(child);
    return () => log;
  };

  const query = async (expr: string) => {
    const response = await httpsGet(receiverPort, `/api/v1/query?${new URLSearchParams({ query: expr })}`, ca, PASSWORD);
    const parsed = JSON.parse(response.body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return parsed.data.result;
  };

  beforeAll(async () => {
    dir = tempDir("receiver-tls");
    const certs = makeTestCertificates(dir);
    ca = fs.readFileSync(certs.caFile, "utf8");
    const file = (name: string, content: string) => {
      const target = path.join(dir, name);
      fs.writeFileSync(target, content);
      return target;
    };
    // The rendered files name container paths; here they live in the temp folder.
    const local: Record<string, string> = {
      [RECEIVER_PATHS.password]: file("receiver.password", PASSWORD),
      [RECEIVER_PATHS.cert]: file("receiver.crt", certs.cert),
      [RECEIVER_PATHS.key]: file("receiver.key", certs.key),
    };
    const localize = (text: string) => Object.entries(local).reduce((result, [from, to]) => result.split(from).join(to), text);

    receiverPort = await freePort();
    const rulesFile = file("rules.yml", renderRules(ruleGroups(rulesInput(config))));
    const prometheusYml = file(
      "prometheus.yml",
      localize(renderPrometheusConfig(prometheusConfigInput(config, undefined, { ruleFiles: [rulesFile], receiver: { tls: true }, selfScrapeTarget: `127.0.0.1:${receiverPort}` }))),
    );
    const webYml = file("web.yml", localize(renderWebConfig({ passwordHash: bcryptHash(PASSWORD), tls: true })));
    healthcheckFile = file("healthcheck.yml", localize(renderHealthcheckHttpConfig(true)));
    const receiverLog = start([
      `--config.file=${prometheusYml}`,
      `--web.config.file=${webYml}`,
      "--web.enable-remote-write-receiver",
      `--web.listen-address=127.0.0.1:${receiverPort}`,
      `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
    ]);
    await waitFor("the receiver to answer over https", 30_000, async () => {
      const response = await httpsGet(receiverPort, "/-/ready", ca, PASSWORD).catch((error: Error) => {
        throw new Error(`${error.message}; log: ${receiverLog()}`);
      });
      return response.status === 200 ? true : undefined;
    });

    // A stand-in TF Serving metrics endpoint with a fixed counter, for the agent to scrape.
    source = http.createServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.end(`# TYPE :tensorflow:serving:request_count counter\n:tensorflow:serving:request_count{model_name="${config.modelName}",status="OK"} 42\n`);
    });
    const sourcePort = await new Promise<number>((resolve) => source.listen(0, "127.0.0.1", () => resolve((source.address() as { port: number }).port)));

    // The agent trusts exactly the receiver's certificate (not the CA that issued it), as the image does.
    const agentYml = file(
      "agent.yml",
      renderAgentConfig({
        serving: { jobName: config.scrapeJobName, metricsPath: "/metrics", scrapeInterval: "1s", scrapeTimeout: "800ms" },
        restPort: sourcePort,
        receiverUrl: `https://127.0.0.1:${receiverPort}${REMOTE_WRITE_PATH}`,
        trustReceiverCertificate: true,
      })
        .split(AGENT_PATHS.passwordFile)
        .join(local[RECEIVER_PATHS.password])
        .split(AGENT_PATHS.receiverCa)
        .join(local[RECEIVER_PATHS.cert]),
    );
    start(
      [`--agent`, `--config.file=${agentYml}`, `--storage.agent.path=${path.join(dir, "agent")}`, `--web.listen-address=127.0.0.1:${await freePort()}`],
      { [AGENT_LABEL_ENV.replica]: "replica-tls", [AGENT_LABEL_ENV.region]: "local" },
    );
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await new Promise((resolve) => (source ? source.close(resolve) : resolve(undefined)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serves https only, and every endpoint needs the login", async () => {
    expect((await httpsGet(receiverPort, "/api/v1/query?query=up", ca)).status).toBe(401);
    expect((await httpsGet(receiverPort, "/api/v1/query?query=up", ca, "wrong-password")).status).toBe(401);
    expect((await httpsGet(receiverPort, "/api/v1/query?query=up", ca, PASSWORD)).status).toBe(200);
    const plain = await new Promise<number>((resolve, reject) =>
      http.get({ host: "127.0.0.1", port: receiverPort, path: "/-/ready", timeout: 5000 }, (response) => resolve(response.statusCode ?? 0)).on("error", reject),
    );
    expect(plain).toBe(400);
  });

  it("the health check promtool runs passes with the rendered client config", () => {
    const check = spawnSync(monitoringTool("promtool"), ["check", "ready", `--url=https://127.0.0.1:${receiverPort}`, `--http.config.file=${healthcheckFile}`], {
      encoding: "utf8",
    });
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({ status: 0, output: expect.stringMatching(/Ready/) });
  });

  it("the self-scrape logs in over https", async () => {
    const up = await waitFor("the self-scrape", 30_000, async () => {
      const result = await query(`up{job="prometheus"}`);
      return result.length > 0 ? result : undefined;
    });
    expect(up.map((sample) => sample.value[1])).toEqual(["1"]);
  });

  it("an agent that trusts the receiver's certificate pushes its series with replica and region", async () => {
    const pushed = await waitFor("the agent's series", 60_000, async () => {
      const result = await query(`:tensorflow:serving:request_count{replica="replica-tls"}`);
      return result.length > 0 ? result : undefined;
    });
    expect(pushed[0].metric).toMatchObject({ job: config.scrapeJobName, replica: "replica-tls", region: "local", model_name: config.modelName });
    expect(pushed[0].value[1]).toBe("42");
  });
});
