import * as path from "node:path";
import { BUNDLED_MODEL_DIR, defaultDashboardTitle, durationMs, imagePinProblem } from "../components/config/stackConfig";
import { parse, problemsOf } from "./support/configParse";

describe("stack config", () => {
  it("applies the documented defaults", () => {
    const config = parse({ modelDir: "serving_model/diabetes-prediction" });
    expect(config).toMatchObject({
      modelName: "diabetes-prediction",
      deployTarget: "local",
      tfServingImage: "tensorflow/serving:2.20.0",
      restPort: 8501,
      grpcPort: 8500,
      metricsPath: "/monitoring/prometheus/metrics",
      enableBatching: false,
      scrapeInterval: "5s",
      scrapeTimeout: "4s",
      scrapeJobName: "tf-serving-local",
      dashboardTitle: "Diabetes_Prediction-monitoring",
      hostBindAddress: "127.0.0.1",
      imagePlatform: "linux/amd64",
    });
    expect(config.modelDirAbsolute).toBe("/project/serving_model/diabetes-prediction");
    expect(config.batching).toBeUndefined();
  });

  it("serves the bundled demo model in a local stack that sets no modelDir", () => {
    const config = parse({});
    expect(config.modelDir).toBe(BUNDLED_MODEL_DIR);
    expect(config.modelDirAbsolute).toBe(path.resolve("/project", "models", "diabetes-prediction"));
  });

  it("keeps an absolute modelDir as it is", () => {
    expect(parse({ modelDir: "/models/diabetes" }).modelDirAbsolute).toBe("/models/diabetes");
  });

  it("turns Pulumi's string values into numbers and booleans", () => {
    const config = parse({ modelDir: "m", restPort: "9000", enableBatching: "true", batchMaxBatchSize: "64", batchNumBatchThreads: "4" });
    expect(config.restPort).toBe(9000);
    expect(config.batching).toEqual({ maxBatchSize: 64, numBatchThreads: 4, batchTimeoutMicros: undefined, maxEnqueuedBatches: undefined });
  });

  it.each([
    ["modelDir empty", { modelDir: "" }, "tfserving-platform:modelDir", /must not be empty/],
    ["modelName with capitals", { modelName: "Diabetes_Model" }, "tfserving-platform:modelName", /lowercase/],
    ["unknown deployTarget", { deployTarget: "aws" }, "tfserving-platform:deployTarget", /local.*railway/],
    ["image without a tag", { tfServingImage: "tensorflow/serving" }, "tfserving-platform:tfServingImage", /no tag/],
    ["image on latest", { tfServingImage: "tensorflow/serving:latest" }, "tfserving-platform:tfServingImage", /latest/],
    ["restPort not a number", { restPort: "http" }, "tfserving-platform:restPort", /number/],
    ["restPort out of range", { restPort: "70000" }, "tfserving-platform:restPort", /65535/],
    ["grpcPort equal to restPort", { grpcPort: "8501" }, "tfserving-platform:grpcPort", /must differ/],
    ["metricsPath without a leading slash", { metricsPath: "metrics" }, "tfserving-platform:metricsPath", /absolute URL path/],
    ["restApiNumThreads zero", { restApiNumThreads: "0" }, "tfserving-platform:restApiNumThreads", /at least 1/],
    ["restApiTimeoutMs fractional", { restApiTimeoutMs: "1.5" }, "tfserving-platform:restApiTimeoutMs", /whole number/],
    ["enableBatching not boolean", { enableBatching: "yes" }, "tfserving-platform:enableBatching", /true or false/],
    ["batching parameters without batching", { batchMaxBatchSize: "128" }, "tfserving-platform:batchMaxBatchSize", /enableBatching/],
    ["scrapeInterval not a duration", { scrapeInterval: "5 seconds" }, "tfserving-platform:scrapeInterval", /duration/],
    ["scrapeTimeout not below the interval", { scrapeInterval: "5s", scrapeTimeout: "5s" }, "tfserving-platform:scrapeTimeout", /shorter than/],
    ["a misspelt key", { modelname: "x" }, "tfserving-platform:modelname", /did you mean tfserving-platform:modelName/],
    ["hostBindAddress not an IP address", { hostBindAddress: "1.2.3" }, "tfserving-platform:hostBindAddress", /IP address/],
    ["hostBindAddress a host name", { hostBindAddress: "localhost" }, "tfserving-platform:hostBindAddress", /IP address/],
    ["scrapeJobName taken by the self-scrape job", { scrapeJobName: "prometheus" }, "tfserving-platform:scrapeJobName", /self-scrape/],
    ["imagePlatform without an architecture", { imagePlatform: "arm64" }, "tfserving-platform:imagePlatform", /os\/arch\[\/variant\]/],
    ["imagePlatform in capitals", { imagePlatform: "Linux/AMD64" }, "tfserving-platform:imagePlatform", /lowercase/],
    ["an empty Railway token", { deployTarget: "railway", railwayService: "svc", railwayToken: "" }, "tfserving-platform:railwayToken", /is required/],
  ] as [string, Record<string, string | undefined>, string, RegExp][])("rejects %s, naming the key", (_case, values, key, reason) => {
    const message = problemsOf({ modelDir: "m", ...values });
    const line = message.split("\n").find((text) => text.includes(key));
    expect(line).toBeDefined();
    expect(line).toMatch(reason);
    expect(line).toMatch(/pulumi config (set|rm)/);
  });

  it("requires the Railway service and token for the railway target", () => {
    const message = problemsOf({ modelDir: "m", deployTarget: "railway" });
    expect(message).toMatch(/tfserving-platform:railwayService: is required/);
    expect(message).toMatch(/tfserving-platform:railwayToken: is required.*--secret/);
    expect(() => parse({ modelDir: "m", deployTarget: "railway", railwayService: "svc", railwayToken: "t0ken", publicEndpoint: "true" }, "prod")).not.toThrow();
  });

  it("never deploys the bundled demo model to Railway: modelDir is required, and the demo path refused", () => {
    const railway = { deployTarget: "railway", railwayService: "svc", railwayToken: "t0ken", publicEndpoint: "true" };
    expect(problemsOf(railway)).toMatch(/tfserving-platform:modelDir: is required when deployTarget is railway.*pulumi config set tfserving-platform:modelDir/);
    for (const demo of ["models/diabetes-prediction", "./models/diabetes-prediction/", "/project/models/diabetes-prediction"]) {
      expect(problemsOf({ ...railway, modelDir: demo })).toMatch(/tfserving-platform:modelDir: ".*" is the bundled demo model, which is not for production.*pulumi config set/);
    }
    expect(parse({ ...railway, modelDir: "serving_model/diabetes-prediction" }, "prod").modelDir).toBe("serving_model/diabetes-prediction");
  });

  it("collects every problem into one error", () => {
    const message = problemsOf({ modelName: "Bad Name", restPort: "x", tfServingImage: "tensorflow/serving:latest" });
    expect(message).toMatch(/^Stack configuration has 3 problems/);
    for (const key of ["modelName", "restPort", "tfServingImage"]) expect(message).toContain(`tfserving-platform:${key}`);
  });

  it("never shows a secret value in an error", () => {
    let message = "";
    try {
      parse({ deployTarget: "railway", railwayToken: "super-secret-token" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("tfserving-platform:modelDir");
    expect(message).not.toContain("super-secret-token");
  });
});

describe("alertmanagerWebhookUrl (a secret)", () => {
  it("is checked before any resource, without echoing the value", () => {
    const message = problemsOf({ modelDir: "m", alertmanagerWebhookUrl: "hooks.example.invalid/secret-path" });
    expect(message).toMatch(/tfserving-platform:alertmanagerWebhookUrl: must be an http\(s\) URL.*pulumi config set --secret/);
    expect(message).not.toContain("secret-path");
  });

  it("accepts an https URL and marks it present", () => {
    expect(parse({ modelDir: "m", alertmanagerWebhookUrl: "https://hooks.example.invalid/alerts" }).secretsPresent.alertmanagerWebhookUrl).toBe(true);
    expect(parse({ modelDir: "m" }).secretsPresent.alertmanagerWebhookUrl).toBe(false);
  });
});

describe("imagePinProblem", () => {
  it.each(["tensorflow/serving:2.20.0", "registry:5000/team/serving:2.20.0-gpu", `prom/prometheus@sha256:${"a".repeat(64)}`])("accepts %s", (ref) => {
    expect(imagePinProblem(ref)).toBeUndefined();
  });
  it.each(["tensorflow/serving", "registry:5000/team/serving", "grafana/grafana:latest", ""])("rejects %s", (ref) => {
    expect(imagePinProblem(ref)).toBeDefined();
  });
});

describe("helpers", () => {
  it("reads Prometheus durations", () => {
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("5 s")).toBeUndefined();
    expect(durationMs("")).toBeUndefined();
  });
  it("derives the hand-built dashboard's title from the model name", () => {
    expect(defaultDashboardTitle("diabetes-prediction")).toBe("Diabetes_Prediction-monitoring");
  });
});
