import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { nodeScriptCommand } from "../shared/nodeScript";
import { ServingEndpoint } from "../serving/endpoint";
import { KEEP_DEPLOYMENT_ARG } from "./deploy";
import { parseDeployResult } from "./parse";
import { API_KEY_ENV } from "../serving/predict";
import { createHash } from "node:crypto";

export interface RailwayServiceArgs {
  /** The rendered TF Serving build context (relative to the project); the only thing uploaded. */
  contextDir: string;
  contextHash: pulumi.Input<string>;
  imageRef: pulumi.Input<string>;
  service: string;
  environment: string;
  /** Set when the token is an account token; a project token carries project and environment itself. */
  projectId?: string;
  /** Path or name of the Railway CLI (config railwayCli). */
  cli: string;
  /** The Railway token, a Pulumi secret. */
  token: pulumi.Output<string>;
  modelName: string;
  restPort: number;
  readinessTimeoutSeconds: number;
  /** Push mode: the receiver password (a Pulumi secret), set as a Railway variable for the replicas' agents. */
  receiverPassword?: pulumi.Output<string>;
  /** Changes when the password does, so a new password reaches Railway (a secret; only its change matters). */
  receiverPasswordHash?: pulumi.Output<string>;
  /** The front door's keys by variable name (a secret), set as Railway variables; a change redeploys. */
  frontDoorEnvironment: pulumi.Output<Record<string, string>>;
  /** A consumer's key (a secret) the rollout check sends; none for a public endpoint. */
  gateApiKey?: pulumi.Output<string>;
}

/**
 * TF Serving on Railway: a command that runs scripts/deploy-railway.ts (upload, confirm SUCCESS,
 * domain, verified rollout) whenever the build context, the service, the environment or the project
 * changes, and never for a change of token, CLI or timeout alone.
 */
export class RailwayService extends pulumi.ComponentResource {
  readonly deploy: command.local.Command;
  /** Bare hostname of the service's Railway domain, e.g. x.up.railway.app. */
  readonly domain: pulumi.Output<string>;
  readonly deploymentId: pulumi.Output<string>;
  readonly endpoint: ServingEndpoint;

  constructor(name: string, args: RailwayServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:railway:RailwayService", name, {}, opts);

    // The token travels only in the environment (a secret in state), never on a command line.
    const auth: Record<string, pulumi.Input<string>> = args.projectId
      ? { RAILWAY_API_TOKEN: args.token, RAILWAY_PROJECT_ID: args.projectId, RAILWAY_ENVIRONMENT_ID: args.environment }
      : { RAILWAY_TOKEN: args.token };
    this.deploy = nodeScriptCommand(
      `${name}-deploy`,
      {
        script: "scripts/deploy-railway.ts",
        environment: {
          ...auth,
          RAILWAY_CLI: args.cli,
          DEPLOY_SERVICE: args.service,
          DEPLOY_CONTEXT_DIR: args.contextDir,
          DEPLOY_REST_PORT: String(args.restPort),
          DEPLOY_IMAGE_REF: args.imageRef,
          MODEL_NAME: args.modelName,
          TIMEOUT_SECONDS: String(args.readinessTimeoutSeconds),
          ...(args.receiverPassword ? { DEPLOY_RECEIVER_PASSWORD: args.receiverPassword } : {}),
          DEPLOY_FRONT_DOOR_VARIABLES: args.frontDoorEnvironment.apply((variables) => JSON.stringify(variables)),
          ...(args.gateApiKey ? { [API_KEY_ENV]: args.gateApiKey } : {}),
        },
        // What is deployed, and where: a change of any of these deploys again (the command is replaced).
        triggers: [
          args.contextHash,
          args.service,
          args.environment,
          ...(args.projectId ? [args.projectId] : []),
          ...(args.receiverPasswordHash ? [args.receiverPasswordHash] : []),
          // A digest, not the keys (so it may show in a preview): a rotated key redeploys with its new variable.
          pulumi.unsecret(args.frontDoorEnvironment.apply((variables) => createHash("sha256").update(JSON.stringify(variables)).digest("hex"))),
        ],
        // Anything else (a rotated Railway token, another CLI path, a new timeout) only reaches the state for the next deploy.
        update: KEEP_DEPLOYMENT_ARG,
        // Diagnostics (redacted build logs) are shown; both streams stay encrypted in state.
        logging: "stderr",
        additionalSecretOutputs: ["stdout", "stderr"],
      },
      { parent: this },
    );

    const result = this.deploy.stdout.apply(parseDeployResult);
    // The host is public by nature (it is the scrape target and a stack output); the rest of stdout stays secret.
    this.domain = pulumi.unsecret(result.apply((deployed) => deployed.host));
    this.deploymentId = pulumi.unsecret(result.apply((deployed) => deployed.deploymentId));
    this.endpoint = {
      url: this.domain.apply((host) => `https://${host}`),
      scrapeTarget: this.domain,
      scrapeScheme: "https",
    };
    this.registerOutputs({ domain: this.domain, deploymentId: this.deploymentId, url: this.endpoint.url });
  }
}
