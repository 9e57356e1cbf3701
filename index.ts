/**
 * A monitored TensorFlow Serving deployment:
 *
 *   model dir ──> TfServingImage ──> LocalServing (dev) | RailwayService (prod)
 *          (front door: caddy on PORT,     │ (keys: FrontDoorKeys, as secret variables)
 *           + agent, push)                 │ scrape mode: Prometheus scrapes through the door with its credential
 *                                          │ push mode: every replica's agent remote-writes (basic auth)
 *                                          v
 *                                      Prometheus ──> Grafana (data source, dashboard): ours, or an existing one
 *                                          │ optional remoteWrite
 *                                          v
 *                                      distributed store (Mimir, Thanos Receive, VictoriaMetrics)
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BUNDLED_MODEL_DIR, loadStackConfig, secretConfig } from "./components/config";
import { DeployMarker } from "./components/grafana/deployMarker";
import { ExistingGrafana } from "./components/grafana/ExistingGrafana";
import { Grafana } from "./components/grafana/Grafana";
import { Alertmanager } from "./components/monitoring/Alertmanager";
import { PROMETHEUS_PORT } from "./components/monitoring/prometheusConfig";
import { Prometheus, prometheusContainerName } from "./components/monitoring/Prometheus";
import { REMOTE_WRITE_PATH, readCertificateFile } from "./components/monitoring/receiverConfig";
import { ReceiverCredentials } from "./components/monitoring/receiverCredentials";
import { RailwayService } from "./components/railway/RailwayService";
import { LocalServing } from "./components/serving/LocalServing";
import { TfServingImage } from "./components/serving/TfServingImage";
import { agentSpec } from "./components/serving/buildContext";
import { FrontDoorKeys } from "./components/frontDoor/FrontDoorKeys";
import { API_KEY_HEADER, API_KEY_SCHEME } from "./components/frontDoor/caddyConfig";
import { frontDoorImageSpec } from "./components/frontDoor/image";
import { ServingEndpoint, servingUrls } from "./components/serving/endpoint";
import { hasWarmupRequests, scanModelDir } from "./components/serving/modelDir";
import { stackLabels } from "./components/shared/dockerLabels";

const config = loadStackConfig(__dirname);
const stackPrefix = `tfserving-${config.stack}`;

const model = scanModelDir(config.modelDirAbsolute, config.modelDir);
for (const warning of model.warnings) pulumi.log.warn(warning);
pulumi.log.info(`TF Serving will serve version ${model.servedVersion} of ${config.modelName}`);
if (config.modelDir === BUNDLED_MODEL_DIR) {
  pulumi.log.info(`Serving the bundled demo model ${BUNDLED_MODEL_DIR} (README, "Demo model"); set tfserving-platform:modelDir to serve your own`);
}

// Push mode: each replica's agent remote-writes to our Prometheus, which checks a generated password.
const push = config.metricsMode === "push";
const prometheusName = prometheusContainerName(stackPrefix);
const receiverCredentials = push ? new ReceiverCredentials("receiver") : undefined;
const receiverCertificate = config.receiverTlsCertFileAbsolute === undefined ? undefined : readCertificateFile(config.receiverTlsCertFileAbsolute);
// dev pushes over the stack network; prod to receiverUrl (required there, and with TLS, by the config checks).
const receiverUrl = config.receiverUrl ?? `http://${prometheusName}:${PROMETHEUS_PORT}${REMOTE_WRITE_PATH}`;

// The front door's keys: the consumers' (apiKeys, or one generated in dev) and Prometheus' scrape credential.
const frontDoorKeys = new FrontDoorKeys("front-door", {
  consumers: config.apiKeyConsumers,
  configuredKeys: config.secretsPresent.apiKeys ? secretConfig("apiKeys") : undefined,
  scrapeCredential: !push,
});
// The gates of `pulumi up` send one consumer's key (the first by name), as every client does.
const gateApiKey = config.apiKeyConsumers.length > 0 ? frontDoorKeys.apiKeys.apply((keys) => keys[config.apiKeyConsumers[0]]) : undefined;

const image = new TfServingImage("tfserving", {
  spec: {
    baseImage: config.tfServingImage,
    modelName: config.modelName,
    restPort: config.restPort,
    grpcPort: config.grpcPort,
    metricsPath: config.servedMetricsPath,
    restApiNumThreads: config.restApiNumThreads,
    restApiTimeoutMs: config.restApiTimeoutMs,
    batching: config.batching,
    platform: config.imagePlatform,
    agent: push ? agentSpec(config, receiverUrl, receiverCertificate, model.servedVersion) : undefined,
    frontDoor: frontDoorImageSpec(config),
  },
  versions: model.versions,
  contextDir: `.build/${config.stack}/tfserving`,
  buildLocally: config.deployTarget === "local",
  stack: config.stack,
});

// The fixed name cannot exist twice: a replacement (e.g. the labels an older stack lacked) deletes first.
const network = new docker.Network("stack-network", { name: stackPrefix, labels: stackLabels(config.stack) }, { deleteBeforeReplace: true });

let serving: ServingEndpoint;
let railway: RailwayService | undefined;
/** What runs the served version; the deploy marker is written after it. */
let deployed: pulumi.Resource;
if (config.deployTarget === "local") {
  const local = new LocalServing("serving", {
    imageRef: image.imageRef,
    networkName: network.name,
    containerName: `${stackPrefix}-serving`,
    modelName: config.modelName,
    restPort: config.restPort,
    hostPort: config.servingHostPort ?? config.restPort,
    hostBindAddress: config.hostBindAddress,
    readinessTimeoutSeconds: config.readinessTimeoutSeconds,
    receiverPassword: receiverCredentials?.password,
    stack: config.stack,
    frontDoorEnvironment: frontDoorKeys.environment,
    gateApiKey,
  });
  serving = local.endpoint;
  deployed = local;
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
    receiverPassword: receiverCredentials?.password,
    receiverPasswordHash: receiverCredentials?.passwordHash,
    frontDoorEnvironment: frontDoorKeys.environment,
    gateApiKey,
  });
  serving = railway.endpoint;
  deployed = railway;
}

// Alertmanager only when a webhook is configured; the URL stays a Pulumi secret throughout.
const webhookUrl = config.secretsPresent.alertmanagerWebhookUrl ? secretConfig("alertmanagerWebhookUrl") : undefined;
const alertmanager = webhookUrl
  ? new Alertmanager("alertmanager", { config, webhookUrl, networkName: network.name, namePrefix: stackPrefix })
  : undefined;

// Scrape mode: dev scrapes the serving container over the stack network (http); prod the Railway domain (https).
// Push mode: no scrape of TF Serving; Prometheus is the agents' receiver and may forward to a distributed store.
const prometheus = new Prometheus("prometheus", {
  config,
  serving: push ? undefined : serving,
  modelVersion: model.servedVersion,
  receiver: receiverCredentials && {
    password: receiverCredentials.password,
    passwordHash: receiverCredentials.passwordHash,
    tls: receiverCertificate === undefined ? undefined : { certificate: receiverCertificate, key: secretConfig("receiverTlsKey")! },
  },
  forwarding: config.remoteWriteUrl
    ? { url: config.remoteWriteUrl, username: config.remoteWriteUsername, password: secretConfig("remoteWritePassword"), headers: config.remoteWriteHeaders }
    : undefined,
  networkName: network.name,
  namePrefix: stackPrefix,
  alertmanagerTarget: alertmanager?.target,
  scrapeCredential: frontDoorKeys.scrapeKey,
});

// Our Grafana's server queries Prometheus by container name on the stack network. An existing Grafana gets the same
// content through its service-account token and reads the configured store, or our Prometheus when it runs on this host.
const external = config.externalGrafana;
const modelWarmup = hasWarmupRequests(model.versions.find((version) => version.version === model.servedVersion)!);
const grafana = external
  ? new ExistingGrafana("grafana", {
      config,
      grafana: external,
      token: secretConfig("existingGrafanaToken")!, // required with existingGrafanaUrl by parseStackConfig
      query: external.dataSourceUrl
        ? {
            url: external.dataSourceUrl,
            external: true,
            basicAuth: external.dataSourceUsername ? { username: external.dataSourceUsername, password: secretConfig("grafanaDataSourcePassword") } : undefined,
          }
        : { url: prometheus.url, external: false, basicAuth: prometheus.basicAuth },
      modelWarmup,
    })
  : new Grafana("grafana", {
      config,
      networkName: network.name,
      namePrefix: stackPrefix,
      prometheusInternalUrl: prometheus.internalUrl,
      prometheusBasicAuth: prometheus.basicAuth,
      modelWarmup,
    });

// Every deploy that changes what is served (a new build-context digest, so a new image tag) leaves a marker.
new DeployMarker("deploy-marker", {
  provider: grafana.provider,
  facts: pulumi.all([image.imageRef, railway?.deploymentId]).apply(([imageRef, railwayDeploymentId]) => ({
    modelName: config.modelName,
    modelVersion: model.servedVersion,
    imageRef,
    stack: config.stack,
    ...(railwayDeploymentId ? { railwayDeploymentId } : {}),
  })),
  after: [deployed],
});

const urls = serving.url.apply((url) => servingUrls(url, config.modelName, config.servedMetricsPath));

export const deployTarget = config.deployTarget;
export const servingUrl = urls.servingUrl;
export const modelStatusUrl = urls.modelStatusUrl;
export const predictUrl = urls.predictUrl;
// Secret when the path carries push mode's unguessable suffix.
export const metricsUrl = config.servedMetricsPath === config.metricsPath ? urls.metricsUrl : pulumi.secret(urls.metricsUrl);
// The bare Railway host in prod; an empty string in dev, so every stack has the same output names.
export const railwayDomain: pulumi.Output<string> | string = railway?.domain ?? "";
export const imageRef = image.imageRef;
export const contextHash = image.contextHash;
export const prometheusUrl = prometheus.url;
export const grafanaUrl = grafana.url;
export const dashboardUrl = grafana.dashboardUrl;
export const grafanaAdminUser = grafana.adminUser;
export const grafanaAdminPassword = grafana.adminPassword;
// What consumers send to the front door; empty for a public endpoint (publicEndpoint). The keys only as a secret.
export const apiKeyHeader = config.apiKeyConsumers.length > 0 ? `${API_KEY_HEADER}: ${API_KEY_SCHEME} <key>` : "";
export const apiKeys = pulumi.secret(frontDoorKeys.apiKeys.apply((keys) => JSON.stringify(keys)));
// What metricsUrl asks for (`Authorization: Bearer <credential>`): Prometheus' scrape credential; empty in push mode,
// where the metrics never leave the container.
export const metricsCredential = pulumi.secret(frontDoorKeys.scrapeKey ?? "");
