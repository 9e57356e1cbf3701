/**
 * A monitored TensorFlow Serving deployment:
 *
 *   model dir ──> TfServingImage ──> LocalServing (dev) | RailwayService (prod)
 *                                          │ serving endpoint (scrape target)
 *                                          v
 *                                      Prometheus ──> Grafana (data source, dashboard)
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BUNDLED_MODEL_DIR, loadStackConfig, secretConfig } from "./components/config";
import { Grafana } from "./components/grafana/Grafana";
import { Alertmanager } from "./components/monitoring/Alertmanager";
import { Prometheus } from "./components/monitoring/Prometheus";
import { RailwayService } from "./components/railway/RailwayService";
import { LocalServing } from "./components/serving/LocalServing";
import { TfServingImage } from "./components/serving/TfServingImage";
import { ServingEndpoint, servingUrls } from "./components/serving/endpoint";
import { scanModelDir } from "./components/serving/modelDir";

const config = loadStackConfig(__dirname);
const stackPrefix = `tfserving-${config.stack}`;

const model = scanModelDir(config.modelDirAbsolute, config.modelDir);
for (const warning of model.warnings) pulumi.log.warn(warning);
pulumi.log.info(`TF Serving will serve version ${model.servedVersion} of ${config.modelName}`);
if (config.modelDir === BUNDLED_MODEL_DIR) {
  pulumi.log.info(`Serving the bundled demo model ${BUNDLED_MODEL_DIR} (README, "Demo model"); set tfserving-platform:modelDir to serve your own`);
}

const image = new TfServingImage("tfserving", {
  spec: {
    baseImage: config.tfServingImage,
    modelName: config.modelName,
    restPort: config.restPort,
    grpcPort: config.grpcPort,
    metricsPath: config.metricsPath,
    restApiNumThreads: config.restApiNumThreads,
    restApiTimeoutMs: config.restApiTimeoutMs,
    batching: config.batching,
  },
  versions: model.versions,
  contextDir: `.build/${config.stack}/tfserving`,
  buildLocally: config.deployTarget === "local",
});

const network = new docker.Network("stack-network", { name: stackPrefix });

let serving: ServingEndpoint;
let railway: RailwayService | undefined;
if (config.deployTarget === "local") {
  serving = new LocalServing("serving", {
    imageRef: image.imageRef,
    networkName: network.name,
    containerName: `${stackPrefix}-serving`,
    modelName: config.modelName,
    restPort: config.restPort,
    hostPort: config.servingHostPort ?? config.restPort,
    hostBindAddress: config.hostBindAddress,
    readinessTimeoutSeconds: config.readinessTimeoutSeconds,
  }).endpoint;
} else {
  railway = new RailwayService("serving", {
    contextDir: image.contextDir,
    contextHash: image.contextHash,
    imageRef: image.imageRef,
    service: config.railwayService!, // required for railway by parseStackConfig
    environment: config.railwayEnvironment,
    projectId: config.railwayProjectId,
    cli: config.railwayCli,
    token: secretConfig("railwayToken")!, // required for railway by parseStackConfig
    modelName: config.modelName,
    restPort: config.restPort,
    readinessTimeoutSeconds: config.readinessTimeoutSeconds,
  });
  serving = railway.endpoint;
}

// Alertmanager only when a webhook is configured; the URL stays a Pulumi secret throughout.
const webhookUrl = config.secretsPresent.alertmanagerWebhookUrl ? secretConfig("alertmanagerWebhookUrl") : undefined;
const alertmanager = webhookUrl
  ? new Alertmanager("alertmanager", { config, webhookUrl, networkName: network.name, namePrefix: stackPrefix })
  : undefined;

// dev scrapes the serving container over the stack network (http); prod the Railway domain (https).
const prometheus = new Prometheus("prometheus", {
  config,
  serving,
  networkName: network.name,
  namePrefix: stackPrefix,
  alertmanagerTarget: alertmanager?.target,
});

// Grafana's server queries Prometheus by container name on the stack network.
const grafana = new Grafana("grafana", {
  config,
  networkName: network.name,
  namePrefix: stackPrefix,
  prometheusInternalUrl: prometheus.internalUrl,
});

const urls = serving.url.apply((url) => servingUrls(url, config.modelName, config.metricsPath));

export const deployTarget = config.deployTarget;
export const servingUrl = urls.servingUrl;
export const modelStatusUrl = urls.modelStatusUrl;
export const predictUrl = urls.predictUrl;
export const metricsUrl = urls.metricsUrl;
// The bare Railway host in prod; an empty string in dev, so every stack has the same output names.
export const railwayDomain: pulumi.Output<string> | string = railway?.domain ?? "";
export const imageRef = image.imageRef;
export const contextHash = image.contextHash;
export const prometheusUrl = prometheus.url;
export const grafanaUrl = grafana.url;
export const dashboardUrl = grafana.dashboardUrl;
export const grafanaAdminUser = grafana.adminUser;
export const grafanaAdminPassword = grafana.adminPassword;
