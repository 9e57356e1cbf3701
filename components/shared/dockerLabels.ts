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
