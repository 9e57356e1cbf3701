/**
 * The label on every Docker object the program creates (network, volumes, containers, the built image),
 * so what an earlier stack of the same name left on a Docker host can be told from a user's own objects:
 * `docker ps -a --filter label=tfserving-platform.stack=dev`.
 */
export const STACK_LABEL = "tfserving-platform.stack";

/** The provider's label list for a network, volume or container of this stack. */
export function stackLabels(stack: string): { label: string; value: string }[] {
  return [{ label: STACK_LABEL, value: stack }];
}

/** The `--filter` argument of `docker ps`, `docker volume ls`, `docker network ls` and `docker image ls` for a stack's objects. */
export function stackLabelFilter(stack: string): string {
  return `label=${STACK_LABEL}=${stack}`;
}

/**
 * Container settings the Docker provider (kreuzwerker 4.5) accepts as an in-place update but never applies
 * to the running container: without a replacement the change would show in every diff and take no effect.
 * Everything else we set either replaces the container already (image, envs, ports, uploads, labels, ...)
 * or is updated in place (restart). `wait` and `waitTimeout` only shape the create and need neither.
 */
export const CONTAINER_REPLACE_ON_CHANGES = ["healthcheck"];

/**
 * Volume labels cannot change in place: the provider would replace the volume, and with its fixed name the
 * replacement would hand back or delete the very data it holds (Prometheus's history). A volume created
 * before labels existed keeps none; every new one is created with them.
 */
export const KEEP_VOLUME_ON_LABEL_CHANGE = { ignoreChanges: ["labels"] };
