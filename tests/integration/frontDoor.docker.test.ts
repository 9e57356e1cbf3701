/**
 * The front door inside the serving image, on a real Docker engine: the image rendered by the program,
 * built FROM the stand-in TF Serving base with caddy copied from a stand-in of the official caddy image
 * (the real binary of the pinned release). The keys reach the container as environment variables only.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EDGE_METRICS_PATH, SCRAPE_KEY_ENV, apiKeyEnv } from "../../components/frontDoor/caddyConfig";
import { frontDoorImageSpec } from "../../components/frontDoor/image";
import { ENTRYPOINT_ASSET, renderContextFiles, writeBuildContext } from "../../components/serving/buildContext";
import { scanModelDir } from "../../components/serving/modelDir";
import { parse } from "../support/configParse";
import { buildStandinCaddy, buildStandinServingBase, containerLogs, containerState, docker, publishedPort, requireDocker, uniqueSuffix } from "../support/docker";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { waitFor } from "../support/serverProcess";

const suffix = uniqueSuffix();
const NAMES = {
  servingBase: `tfserving-platform-test/standin-serving:door-${suffix}`,
  caddyImage: `tfserving-platform-test/standin-caddy:${suffix}`,
  servingImage: `tfserving-platform-test/serving-door:${suffix}`,
  serving: `tfserving-door-${suffix}`,
  crash: `tfserving-door-crash-${suffix}`,
  noKey: `tfserving-door-nokey-${suffix}`,
};
const KEYS = { "team-a": `teamA-${suffix}-5b9e2f7c1d3a8e4b6f0c2d9a`, "team-b": `teamB-${suffix}-0c4e8a2f6b1d9e3c7a5f2b8d` };
const SCRAPE_KEY = `scrape-${suffix}-9f8e7d6c5b4a39281706f5e4`;
// The stand-in serves its Prometheus endpoint as a busybox CGI script.
const config = parse({ metricsPath: "/cgi-bin/metrics", maxRequestBodyBytes: "4096", apiKeys: JSON.stringify(KEYS) });
const MODEL = config.modelName;
const KEY_ENV = [...Object.entries(KEYS).flatMap(([consumer, key]) => ["-e", `${apiKeyEnv(consumer)}=${key}`]), "-e", `${SCRAPE_KEY_ENV}=${SCRAPE_KEY}`];

jest.setTimeout(120_000);

describe("the front door in the serving image on a real Docker engine", () => {
  let workDir: string;
  let modelDir: string;
  let door: string;

  const send = async (urlPath: string, init: { key?: string; body?: string } = {}) => {
    const response = await fetch(`${door}${urlPath}`, {
      method: init.body === undefined ? "GET" : "POST",
      headers: init.key === undefined ? {} : { Authorization: `Bearer ${init.key}` },
      body: init.body,
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, text: await response.text() };
  };
  const predictPath = `/v1/models/${MODEL}:predict`;

  beforeAll(async () => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-door-"));
    modelDir = makeModelDir(["1"]);
    buildStandinServingBase(workDir, NAMES.servingBase);
    buildStandinCaddy(workDir, NAMES.caddyImage);
    const files = renderContextFiles(
      {
        baseImage: NAMES.servingBase,
        modelName: MODEL,
        restPort: config.restPort,
        grpcPort: config.grpcPort,
        metricsPath: config.servedMetricsPath,
        frontDoor: { ...frontDoorImageSpec(config), image: NAMES.caddyImage },
      },
      fs.readFileSync(ENTRYPOINT_ASSET, "utf8"),
    );
    const contextDir = path.join(workDir, "context");
    writeBuildContext(contextDir, files, scanModelDir(modelDir).versions);
    docker(["build", "-q", "-t", NAMES.servingImage, contextDir], 300_000);
    docker(["run", "-d", "--name", NAMES.serving, "-p", "127.0.0.1::8501", ...KEY_ENV, NAMES.servingImage]);
    door = `http://127.0.0.1:${publishedPort(NAMES.serving, 8501)}`;
    await waitFor("the door to answer the model status", 60_000, async () => ((await send(`/v1/models/${MODEL}`)).status === 200 ? true : undefined), 250);
  }, 600_000);

  afterAll(() => {
    for (const name of [NAMES.serving, NAMES.crash, NAMES.noKey]) spawnSync("docker", ["rm", "-f", name]);
    spawnSync("docker", ["rmi", "-f", NAMES.servingImage, NAMES.servingBase, NAMES.caddyImage]);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    if (modelDir) removeDir(modelDir);
  }, 120_000);

  it("answers predict with each consumer's key and refuses it without one or with a wrong one (401)", async () => {
    for (const key of Object.values(KEYS)) expect(await send(predictPath, { key, body: "{}" })).toEqual({ status: 200, text: '{"predictions": [[0.5]]}\n' });
    expect((await send(predictPath, { body: "{}" })).status).toBe(401);
    expect((await send(predictPath, { key: `${KEYS["team-a"]}x`, body: "{}" })).status).toBe(401);
    expect((await send(predictPath, { key: SCRAPE_KEY, body: "{}" })).status).toBe(401);
  });

  it("answers 404 for another model and for the metrics paths without the scrape credential; 413 above the body limit", async () => {
    expect((await send("/v1/models/other:predict", { key: KEYS["team-a"], body: "{}" })).status).toBe(404);
    expect((await send(config.servedMetricsPath, { key: KEYS["team-a"] })).status).toBe(404);
    expect((await send(EDGE_METRICS_PATH)).status).toBe(404);
    expect((await send(predictPath, { key: KEYS["team-a"], body: "x".repeat(4097) })).status).toBe(413);
  });

  it("serves TF Serving's metrics and its own to the scrape credential", async () => {
    const tfServing = await send(config.servedMetricsPath, { key: SCRAPE_KEY });
    expect(tfServing.status).toBe(200);
    expect(tfServing.text).toMatch(/^:tensorflow:serving:request_count\{model_name="diabetes-prediction",status="OK"\} [1-9]/m);
    const edge = await send(EDGE_METRICS_PATH, { key: SCRAPE_KEY });
    expect(edge.text).toMatch(/caddy_http_request_duration_seconds_count\{code="401",handler="static_response",method="POST",server="door"\} [1-9]/);
  });

  it("keeps the keys out of TF Serving's environment and off every command line", () => {
    const tfServingPid = docker(["exec", NAMES.serving, "cat", "/tmp/tfserving.pid"]).trim();
    const environment = docker(["exec", NAMES.serving, "cat", `/proc/${tfServingPid}/environ`]);
    expect(environment).toContain("MODEL_NAME=diabetes-prediction");
    for (const [name, secret] of [...Object.entries(KEYS).map(([consumer, key]) => [apiKeyEnv(consumer), key]), [SCRAPE_KEY_ENV, SCRAPE_KEY]]) {
      expect(environment).not.toContain(`${name}=`);
      expect(environment).not.toContain(secret);
    }
    const commandLines = docker(["exec", NAMES.serving, "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]);
    expect(commandLines).toContain("caddy run --config /etc/tfserving/caddy.json");
    for (const secret of [...Object.values(KEYS), SCRAPE_KEY]) expect(commandLines).not.toContain(secret);
  });

  it("ends the container non-zero when the door exits on its own, stopping TF Serving", async () => {
    docker(["run", "-d", "--name", NAMES.crash, ...KEY_ENV, NAMES.servingImage]);
    await waitFor("the crash container's door", 30_000, async () => (spawnSync("docker", ["exec", NAMES.crash, "pidof", "caddy"]).status === 0 ? true : undefined), 250);
    // SIGTERM, which caddy answers by exiting: the stand-in's busybox ash misses children killed outright
    // (`wait -n` does not return for them), which the real image's bash sees.
    docker(["exec", NAMES.crash, "sh", "-c", "kill -TERM $(pidof caddy)"]);
    const state = await waitFor("the container to exit", 30_000, async () => {
      const current = containerState(NAMES.crash);
      return current.running ? undefined : current;
    }, 250);
    expect(state.exitCode).not.toBe(0);
    const logs = containerLogs(NAMES.crash);
    expect(logs).toMatch(/a process exited with status \d+; stopping the others/);
    expect(logs).toContain("got SIGTERM");
  });

  it("refuses to start without a key the door's config names, naming the variable but not the others' values", async () => {
    docker(["run", "-d", "--name", NAMES.noKey, "-e", `${SCRAPE_KEY_ENV}=${SCRAPE_KEY}`, "-e", `${apiKeyEnv("team-a")}=${KEYS["team-a"]}`, NAMES.servingImage]);
    const state = await waitFor("the container to exit", 30_000, async () => {
      const current = containerState(NAMES.noKey);
      return current.running ? undefined : current;
    }, 250);
    expect(state.exitCode).toBe(64);
    const logs = containerLogs(NAMES.noKey);
    expect(logs).toContain("FRONT_DOOR_KEY_TEAM_B is not set");
    expect(logs).not.toContain(KEYS["team-a"]);
  });

  it("stops cleanly on SIGTERM: every process gets it, exit code 0", () => {
    docker(["stop", "-t", "10", NAMES.serving]);
    expect(containerState(NAMES.serving).exitCode).toBe(0);
    expect(containerLogs(NAMES.serving)).toContain("got SIGTERM");
  });
});
