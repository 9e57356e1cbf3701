/** How the Docker objects of a stack take a change of their inputs (kreuzwerker provider 4.5, as pulumi-docker 5.2 bundles it). */

/**
 * Container settings the Docker provider (kreuzwerker 4.5) accepts as an in-place update but never applies
 * to the running container: without a replacement the change is written to the state only, never takes effect
 * and comes back as a diff after every refresh (the provider reads the container's own value).
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
