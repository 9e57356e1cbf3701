/**
 * `npm start` sees the Docker host as it is before deciding: containers, volumes or networks that
 * vanished behind Pulumi's back (a Docker Desktop reset, `docker system prune`, `docker rm`) are
 * refreshed out of the state so the `up` recreates them, and an image that is gone is rebuilt.
 *
 * The refresh targets every resource except the Grafana provider's: those are read over Grafana's
 * HTTP API, which is down exactly when its container vanished, and a failed read fails the refresh.
 * When Grafana's database volume vanished, they are replaced instead (the new database has none of them).
 * The Image resource's read passes its state through, so a pruned image is never noticed by a
 * refresh; it is replaced (rebuilt from its context), where the container's next replacement would
 * otherwise try to pull `tfserving-platform/<model>:<hash>` from Docker Hub.
 */

/** A resource of an exported deployment (`stack.exportStack()`), as much as these decisions read. */
export interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  outputs?: Record<string, unknown>;
}

export const IMAGE_TYPE = "docker:index/image:Image";
const VOLUME_TYPE = "docker:index/volume:Volume";
const isGrafanaResource = (resource: StateResource) => resource.type.startsWith("grafana:");
const isProvider = (resource: StateResource) => resource.type.startsWith("pulumi:providers:");

/** The resources of `stack.exportStack()`'s deployment; none for a stack that was never deployed. */
export function stateResources(exported: { deployment?: { resources?: StateResource[] } } | undefined): StateResource[] {
  return exported?.deployment?.resources ?? [];
}

/** Resources whose read needs only the Docker engine or nothing at all (command, random): what the refresh targets. */
export function refreshTargets(resources: StateResource[]): string[] {
  return resources.filter((resource) => resource.custom && !isProvider(resource) && !isGrafanaResource(resource)).map((resource) => resource.urn);
}

/** `imageName` of each Image resource (the stack's `imageRef` output), with its URN. */
export function builtImages(resources: StateResource[]): { urn: string; imageRef: string }[] {
  return resources.flatMap((resource) => {
    const imageRef = resource.outputs?.imageName;
    return resource.type === IMAGE_TYPE && typeof imageRef === "string" && imageRef !== "" ? [{ urn: resource.urn, imageRef }] : [];
  });
}

const volumeNames = (resources: StateResource[]) =>
  new Set(resources.flatMap((resource) => (resource.type === VOLUME_TYPE && typeof resource.outputs?.name === "string" ? [resource.outputs.name] : [])));

export interface UpDecision {
  /** URNs for `UpOptions.replace`. */
  replace: string[];
  /** One line per reason, for the console. */
  notes: string[];
}

/**
 * What the `up` after the refresh must replace: each Image whose image the engine no longer has
 * (rebuilt, never pulled), and every Grafana resource when the refresh found Grafana's database
 * volume gone (the state would otherwise keep believing in a dashboard the new database lacks).
 */
export function decideReplacements(input: { before: StateResource[]; afterRefresh: StateResource[]; missingImages: string[] }): UpDecision {
  const replace: string[] = [];
  const notes: string[] = [];
  for (const image of builtImages(input.afterRefresh)) {
    if (!input.missingImages.includes(image.imageRef)) continue;
    replace.push(image.urn);
    notes.push(`The image ${image.imageRef} is gone from the Docker engine: rebuilding it (never pulled).`);
  }
  const after = volumeNames(input.afterRefresh);
  const lostGrafanaVolume = [...volumeNames(input.before)].find((name) => name.endsWith("-grafana-data") && !after.has(name));
  if (lostGrafanaVolume) {
    const grafana = input.afterRefresh.filter((resource) => resource.custom && isGrafanaResource(resource) && !isProvider(resource));
    if (grafana.length > 0) {
      replace.push(...grafana.map((resource) => resource.urn));
      notes.push(`Grafana's database volume ${lostGrafanaVolume} is gone: recreating its data source, folder, dashboard and alerts in the new one.`);
    }
  }
  return { replace, notes };
}
