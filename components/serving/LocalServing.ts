import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_REPLACE_ON_CHANGES } from "../shared/dockerChanges";
import { stackLabels } from "../shared/dockerLabels";
import { hostForUrl } from "../shared/hostUrl";
import { nodeScriptCommand } from "../shared/nodeScript";
import { RECEIVER_PASSWORD_ENV } from "./buildContext";
import { API_KEY_ENV } from "./predict";
import { ServingEndpoint } from "./endpoint";

export interface LocalServingArgs {
  imageRef: pulumi.Input<string>;
  networkName: pulumi.Input<string>;
  /** Container name, unique per stack so two stacks can share a Docker host. */
  containerName: string;
  modelName: string;
  restPort: number;
  hostPort: number;
  hostBindAddress: string;
  readinessTimeoutSeconds: number;
  /** Push mode: the receiver password (a Pulumi secret) for the image's agent. */
  receiverPassword?: pulumi.Output<string>;
  /** The stack name, for the container's label (components/shared/dockerLabels.ts). */
  stack: string;
  /** The front door's keys by variable name (a Pulumi secret); a rotated key replaces the container, not the image. */
  frontDoorEnvironment: pulumi.Output<Record<string, string>>;
  /** A consumer's key (a secret) the readiness gate sends; none for a public endpoint. */
  gateApiKey?: pulumi.Output<string>;
}

/** TF Serving on the local Docker engine, with a gate that holds `pulumi up` until the model is AVAILABLE. */
export class LocalServing extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly ready: command.local.Command;
  readonly endpoint: ServingEndpoint;

  constructor(name: string, args: LocalServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:serving:LocalServing", name, {}, opts);

    this.container = new docker.Container(
      name,
      {
        name: args.containerName,
        // A stable hostname: push mode's agent labels its series with it (replica), so a replaced
        // container continues the same series instead of starting new ones under its new id.
        hostname: args.containerName,
        // Runs for the platform the image was built for (imagePlatform). No `platform` here: the provider reads a
        // container's platform back as the OS alone ("linux"), so "linux/amd64" would replace it on every run.
        image: args.imageRef,
        labels: stackLabels(args.stack),
        restart: "unless-stopped",
        envs: pulumi
          .all([args.frontDoorEnvironment, args.receiverPassword])
          .apply(([doorEnvironment, receiverPassword]) => [
            ...Object.entries(doorEnvironment).map(([variable, value]) => `${variable}=${value}`),
            ...(receiverPassword === undefined ? [] : [`${RECEIVER_PASSWORD_ENV}=${receiverPassword}`]),
          ]),
        ports: [{ internal: args.restPort, external: args.hostPort, ip: args.hostBindAddress }],
        networksAdvanced: [{ name: args.networkName, aliases: [args.containerName] }],
      },
      // The fixed name and host port would collide with the old container during a replacement; envs hold keys and the password.
      { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"], replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES },
    );

    const hostUrl = `http://${hostForUrl(args.hostBindAddress)}:${args.hostPort}`;
    // The gate asks the Docker CLI about the container: the engine's DOCKER_HOST reaches it already, and a
    // stack that names its engine in docker:host hands that on.
    const dockerHost = new pulumi.Config("docker").get("host");
    this.ready = nodeScriptCommand(
      `${name}-ready`,
      {
        script: "scripts/verify-rollout.ts",
        environment: {
          SERVING_URL: hostUrl,
          MODEL_NAME: args.modelName,
          TIMEOUT_SECONDS: String(args.readinessTimeoutSeconds),
          CONTAINER_NAME: args.containerName,
          ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
          ...(args.gateApiKey ? { [API_KEY_ENV]: args.gateApiKey } : {}),
        },
        triggers: [this.container.id],
      },
      { parent: this, dependsOn: [this.container] },
    );

    this.endpoint = {
      // Resolves only once the gate passed, so whatever consumes the URL waits for a serving model.
      url: this.ready.stdout.apply(() => hostUrl),
      scrapeTarget: pulumi.output(`${args.containerName}:${args.restPort}`),
      scrapeScheme: "http",
    };
    this.registerOutputs({ url: this.endpoint.url, scrapeTarget: this.endpoint.scrapeTarget });
  }
}
