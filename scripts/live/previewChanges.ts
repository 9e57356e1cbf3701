/** What a preview plans to change, from the engine's resourcePreEvents, checked against what a model change may touch. */
import type { EngineEvent } from "@pulumi/pulumi/automation";

export interface PlannedStep {
  op: string;
  urn: string;
}

/** Ops that leave a resource as it is. */
const UNCHANGED = new Set(["same", "read", "refresh"]);

export function plannedSteps(events: EngineEvent[]): PlannedStep[] {
  return events.flatMap((event) => (event.resourcePreEvent ? [{ op: event.resourcePreEvent.metadata.op, urn: event.resourcePreEvent.metadata.urn }] : []));
}

/** `<type>::<name>` of a URN, e.g. `docker:index/image:Image::tfserving` (the parent chain dropped). */
export function resourceKey(urn: string): string {
  const parts = urn.split("::");
  const type = parts[parts.length - 2] ?? "";
  return `${type.slice(type.lastIndexOf("$") + 1)}::${parts[parts.length - 1]}`;
}

/**
 * The changed resources are exactly `required` plus, optionally, `dependents` (resources whose inputs
 * come from them): a required one unchanged, or anything else changed, is an error naming it.
 */
export function checkChangedExactly(steps: PlannedStep[], expected: { required: string[]; dependents: string[] }): string {
  const changed = new Map<string, string>();
  for (const step of steps) if (!UNCHANGED.has(step.op)) changed.set(resourceKey(step.urn), step.op);
  const missing = expected.required.filter((key) => !changed.has(key));
  const unexpected = [...changed.keys()].filter((key) => !expected.required.includes(key) && !expected.dependents.includes(key));
  const problems = [
    ...(missing.length ? [`not changed: ${missing.join(", ")}`] : []),
    ...(unexpected.length ? [`changed although the model does not reach them: ${unexpected.map((key) => `${key} (${changed.get(key)})`).join(", ")}`] : []),
  ];
  if (problems.length > 0) throw new Error(`a one-byte model change previews the wrong changes: ${problems.join("; ")}`);
  return [...changed].map(([key, op]) => `${key} (${op})`).join(", ");
}

/** Ops other than `same` with a count, from an update's `summary.resourceChanges`: empty for a true no-op. */
export function changedOps(changes: Record<string, number | undefined> | undefined): string[] {
  return Object.entries(changes ?? {})
    .filter(([op, count]) => op !== "same" && (count ?? 0) > 0)
    .map(([op]) => op);
}
