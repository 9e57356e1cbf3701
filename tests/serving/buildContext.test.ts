import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ENTRYPOINT_ASSET,
  ServingImageSpec,
  renderBatchingParameters,
  renderContextFiles,
  renderDockerfile,
  renderMonitoringConfig,
  writeBuildContext,
} from "../../components/serving/buildContext";
import { listFiles } from "../../components/serving/contextHash";
import { scanModelDir } from "../../components/serving/modelDir";
import { frontDoorImageSpec } from "../../components/frontDoor/image";
import { parse } from "../support/configParse";
import { makeModelDir, removeDir } from "../support/modelFixture";

const spec: ServingImageSpec = {
  baseImage: "tensorflow/serving:2.20.0",
  modelName: "diabetes-prediction",
  restPort: 8501,
  grpcPort: 8500,
  metricsPath: "/monitoring/prometheus/metrics",
  frontDoor: frontDoorImageSpec(parse({})),
};

describe("monitoring config", () => {
  it("turns on TF Serving's Prometheus endpoint at the configured path", () => {
    expect(renderMonitoringConfig("/monitoring/prometheus/metrics")).toBe(
      'prometheus_config {\n  enable: true\n  path: "/monitoring/prometheus/metrics"\n}\n',
    );
  });
});

describe("batching parameters", () => {
  it("renders only the fields that are set, in TF Serving's text format", () => {
    expect(renderBatchingParameters({ maxBatchSize: 128, batchTimeoutMicros: 0 })).toBe(
      "max_batch_size { value: 128 }\nbatch_timeout_micros { value: 0 }\n",
    );
  });
});

describe("Dockerfile", () => {
  it("builds FROM the pinned image, copies the model to /models/<name>/ and starts the entrypoint", () => {
    const dockerfile = renderDockerfile(spec);
    const lines = dockerfile.trim().split("\n");
    expect(lines.filter((line) => line.startsWith("FROM "))).toEqual(["FROM caddy:2.11.9 AS front-door", "FROM tensorflow/serving:2.20.0"]);
    expect(dockerfile).toContain("MODEL_NAME=diabetes-prediction");
    expect(dockerfile).toContain("MODEL_BASE_PATH=/models");
    expect(dockerfile).toContain("PORT=8501");
    expect(dockerfile).toContain("GRPC_PORT=8500");
    expect(dockerfile).toContain("MONITORING_CONFIG_FILE=/etc/tfserving/monitoring.config");
    expect(lines).toContain("COPY model/ /models/diabetes-prediction/");
    expect(lines).toContain("EXPOSE 8500 8501");
    expect(lines).toContain('ENTRYPOINT ["/usr/local/bin/tfserving-entrypoint.sh"]');
    expect(lines).toContain("CMD []");
  });

  it("puts the front door in: caddy from the pinned caddy image, its rendered config, the variables it needs", () => {
    const dockerfile = renderDockerfile(spec);
    // Copied with cp in its stage first: the official binary's file capability would make exec fail where capabilities are dropped.
    expect(dockerfile).toContain("FROM caddy:2.11.9 AS front-door\nRUN cp /usr/bin/caddy /tmp/caddy\n");
    expect(dockerfile).toContain("COPY --from=front-door /tmp/caddy /usr/local/bin/caddy\n");
    expect(dockerfile).toContain("UPSTREAM_REST_PORT=18501 \\\n");
    expect(dockerfile).toContain("FRONT_DOOR_CONFIG_FILE=/etc/tfserving/caddy.json \\\n");
    expect(dockerfile).toContain('FRONT_DOOR_REQUIRED_ENV="FRONT_DOOR_KEY_DEV FRONT_DOOR_SCRAPE_KEY" \\\n');
    const caddy = JSON.parse(renderContextFiles(spec, "")["config/caddy.json"]);
    expect(caddy.apps.http.servers.door.listen).toEqual([":{env.PORT}"]);
    expect(caddy.apps.http.servers.door.routes.at(-2).handle[0].status_code).toBe(401);
  });

  it("passes tuning flags as CMD arguments, batching only with its parameters file", () => {
    const dockerfile = renderDockerfile({ ...spec, restApiNumThreads: 8, restApiTimeoutMs: 10000, batching: { maxBatchSize: 32 } });
    expect(dockerfile).toContain(
      'CMD ["--rest_api_num_threads=8","--rest_api_timeout_in_ms=10000","--enable_batching=true","--batching_parameters_file=/etc/tfserving/batching.config"]',
    );
    expect(renderContextFiles({ ...spec, batching: { maxBatchSize: 32 } }, "")["config/batching.config"]).toBe("max_batch_size { value: 32 }\n");
    expect(renderContextFiles(spec, "")["config/batching.config"]).toBeUndefined();
  });
});

describe("Dockerfile platform and stack label", () => {
  const agent: ServingImageSpec["agent"] = {
    image: "prom/prometheus:v3.13.5",
    config: {
      serving: { jobName: "tf-serving-local", metricsPath: "/metrics", scrapeInterval: "5s", scrapeTimeout: "4s" },
      restPort: 8501,
      receiverUrl: "http://tfserving-dev-prometheus:9090/api/v1/write",
      trustReceiverCertificate: false,
    },
  };

  it("builds every stage for imagePlatform, so a new platform is a new context (new tag, new container)", () => {
    const lines = renderDockerfile({ ...spec, platform: "linux/amd64", agent }).split("\n");
    expect(lines.filter((line) => line.startsWith("FROM "))).toEqual([
      "FROM --platform=linux/amd64 prom/prometheus:v3.13.5 AS prometheus-agent",
      "FROM --platform=linux/amd64 caddy:2.11.9 AS front-door",
      "FROM --platform=linux/amd64 tensorflow/serving:2.20.0",
    ]);
    expect(renderDockerfile({ ...spec, platform: "linux/arm64" })).not.toBe(renderDockerfile({ ...spec, platform: "linux/amd64" }));
  });

  it("labels the image with the stack from a build argument, after every layer", () => {
    const lines = renderDockerfile(spec).trim().split("\n");
    expect(lines.slice(-2)).toEqual(["ARG TFSERVING_PLATFORM_STACK", "LABEL tfserving-platform.stack=$TFSERVING_PLATFORM_STACK"]);
  });
});

describe("entrypoint asset", () => {
  const script = fs.readFileSync(ENTRYPOINT_ASSET, "utf8");
  it("starts tensorflow_model_server and the front door under a supervisor that forwards SIGTERM (the docker tests run it)", () => {
    expect(script).toMatch(/^set -- tensorflow_model_server /m);
    expect(script).toMatch(/^caddy run --config "\$\{FRONT_DOOR_CONFIG_FILE\}" &$/m);
    expect(script).toMatch(/^trap 'stopping=1; stop_all' TERM INT$/m);
  });
  it("gives the PORT the host injects (or the image's REST port) to the front door, and TF Serving the internal port", () => {
    expect(script).toContain('export PORT="${PORT:-${REST_PORT}}"');
    expect(script).toContain('--rest_api_port="${UPSTREAM_REST_PORT}"');
  });
  it("passes the model, monitoring config and extra flags", () => {
    for (const flag of ['--port="${GRPC_PORT}"', '--model_name="${MODEL_NAME}"', '--model_base_path="${MODEL_BASE_PATH}/${MODEL_NAME}"', '--monitoring_config_file="${MONITORING_CONFIG_FILE}"', '"$@"']) {
      expect(script).toContain(flag);
    }
  });
  it("has LF line endings (a CRLF shebang does not run in Linux)", () => {
    expect(script).not.toContain("\r");
  });
});

describe("writeBuildContext", () => {
  let modelDir: string;
  let contextDir: string;
  beforeEach(() => {
    modelDir = makeModelDir(["1", "2"], (root) => fs.mkdirSync(path.join(root, "tmp-export")));
    contextDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-context-"));
  });
  afterEach(() => {
    removeDir(modelDir);
    removeDir(contextDir);
  });

  it("lays out the rendered files and only the numeric versions", () => {
    writeBuildContext(contextDir, renderContextFiles(spec, "#!/bin/sh\n"), scanModelDir(modelDir).versions);
    expect(listFiles(contextDir)).toEqual([
      ".dockerignore",
      "Dockerfile",
      "config/caddy.json",
      "config/monitoring.config",
      "model/1/saved_model.pb",
      "model/1/variables/variables.data-00000-of-00001",
      "model/1/variables/variables.index",
      "model/2/saved_model.pb",
      "model/2/variables/variables.data-00000-of-00001",
      "model/2/variables/variables.index",
      "tfserving-entrypoint.sh",
    ]);
    expect(fs.readFileSync(path.join(contextDir, "model/2/saved_model.pb"), "utf8")).toBe("saved model 2");
  });

  it("removes what is no longer planned, such as a deleted version", () => {
    writeBuildContext(contextDir, renderContextFiles(spec, ""), scanModelDir(modelDir).versions);
    removeDir(path.join(modelDir, "1"));
    writeBuildContext(contextDir, renderContextFiles(spec, ""), scanModelDir(modelDir).versions);
    expect(fs.existsSync(path.join(contextDir, "model/1"))).toBe(false);
    expect(fs.existsSync(path.join(contextDir, "model/2/saved_model.pb"))).toBe(true);
  });

  it("picks up a model file replaced with new content", () => {
    writeBuildContext(contextDir, renderContextFiles(spec, ""), scanModelDir(modelDir).versions);
    const source = path.join(modelDir, "2", "saved_model.pb");
    fs.rmSync(source);
    fs.writeFileSync(source, "retrained");
    writeBuildContext(contextDir, renderContextFiles(spec, ""), scanModelDir(modelDir).versions);
    expect(fs.readFileSync(path.join(contextDir, "model/2/saved_model.pb"), "utf8")).toBe("retrained");
  });

  it("ignores everything but the Dockerfile's inputs in .dockerignore", () => {
    expect(renderContextFiles(spec, "")[".dockerignore"].split("\n")[0]).toBe("*");
  });
});
