import * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as pulumi from "@pulumi/pulumi";
import * as grafana from "@pulumiverse/grafana";

/** Every deploy marker carries this tag and the model name; the dashboard's annotation query selects by both. */
export const DEPLOY_TAG = "deploy";

export interface DeployFacts {
  modelName: string;
  modelVersion: string;
  /** The image of the deploy; its tag is the build-context digest, so a new digest means a new text. */
  imageRef: string;
  stack: string;
  /** Railway's id of the deployment (prod). */
  railwayDeploymentId?: string;
}

export function deployMarkerText(facts: DeployFacts): string {
  const railway = facts.railwayDeploymentId ? `, Railway deployment ${facts.railwayDeploymentId}` : "";
  return `Deployed ${facts.modelName} version ${facts.modelVersion} (image ${facts.imageRef}) to stack ${facts.stack}${railway}`;
}

export function deployMarkerTags(facts: Pick<DeployFacts, "modelName" | "modelVersion" | "stack">): string[] {
  return [DEPLOY_TAG, facts.modelName, `version:${facts.modelVersion}`, `stack:${facts.stack}`];
}

/**
 * The dashboard's "Deploys" annotation query: Grafana's own annotation store, organization annotations
 * tagged `deploy` and the model (all tags must match), drawn on every time-series panel.
 */
export function deployAnnotationQuery(modelName: string): cog.Builder<dashboard.AnnotationQuery> {
  // The SDK types a target as a data source query; Grafana's built-in source takes this tag filter instead.
  const target: cog.Builder<cog.Dataquery> = {
    build: () => ({ type: "tags", tags: [DEPLOY_TAG, modelName], matchAny: false, limit: 100 }) as unknown as cog.Dataquery,
  };
  return new dashboard.AnnotationQueryBuilder()
    .name("Deploys")
    .datasource({ type: "grafana", uid: "-- Grafana --" })
    .enable(true)
    .iconColor("purple")
    .target(target);
}

export interface DeployMarkerArgs {
  provider: grafana.Provider;
  facts: pulumi.Input<DeployFacts>;
  /** The deploy this marks: the marker is written once it is live (the serving container or the Railway deploy). */
  after: pulumi.Input<pulumi.Resource>[];
}

/**
 * A deploy marker: a Grafana annotation stamped when a deploy that changed what is served completes.
 * The text changes exactly when the build-context digest does (the image tag is the digest), and a
 * changed text replaces the annotation: the new one is created first, and the old one is only dropped
 * from the stack (retainOnDelete), so every earlier marker stays in Grafana. `pulumi destroy` leaves
 * them too; with the stack's own Grafana they go with its data volume.
 */
export class DeployMarker extends pulumi.ComponentResource {
  readonly annotation: grafana.oss.Annotation;

  constructor(name: string, args: DeployMarkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:grafana:DeployMarker", name, {}, opts);
    const facts = pulumi.output(args.facts);
    this.annotation = new grafana.oss.Annotation(
      name,
      // No time: Grafana stamps the annotation when it is created, i.e. when this deploy is done.
      { text: facts.apply(deployMarkerText), tags: facts.apply(deployMarkerTags) },
      { parent: this, provider: args.provider, dependsOn: args.after, replaceOnChanges: ["text"], deleteBeforeReplace: false, retainOnDelete: true },
    );
    this.registerOutputs({});
  }
}
