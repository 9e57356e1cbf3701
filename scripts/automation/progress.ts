/** Console side of the Automation API: streamed output as whole lines, and what `npm start` prints at the end. */
import type { OutputMap } from "@pulumi/pulumi/automation";

/**
 * Turns output chunks (which split lines anywhere, even inside a `\r\n`) into complete lines. `flush`
 * returns the unterminated rest once the stream ends.
 */
export class LineBuffer {
  private rest = "";

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split(/\r?\n/);
    this.rest = lines.pop() ?? "";
    // A chunk ending in "\r" may be the first half of "\r\n": keep it until the next chunk decides.
    return lines;
  }

  flush(): string[] {
    const rest = this.rest.replace(/\r$/, "");
    this.rest = "";
    return rest === "" ? [] : [rest];
  }
}

/** `onOutput` for the Automation API that prints whole lines through `write`, plus its end-of-stream flush. */
export function lineWriter(write: (line: string) => void): { onOutput: (chunk: string) => void; end: () => void } {
  const buffer = new LineBuffer();
  return {
    onOutput: (chunk) => buffer.push(chunk).forEach(write),
    end: () => buffer.flush().forEach(write),
  };
}

/** `2 created, 14 unchanged` from the engine's resourceChanges, in a fixed order. */
export function formatChanges(changes: Record<string, number> | undefined): string {
  const order = ["create", "update", "replace", "delete", "same"];
  const names: Record<string, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted", same: "unchanged" };
  const entries = Object.entries(changes ?? {}).filter(([, count]) => count > 0);
  entries.sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return entries.length === 0 ? "no resources" : entries.map(([op, count]) => `${count} ${names[op] ?? op}`).join(", ");
}

/** The command that shows the Grafana admin password on this backend; for the project-local one, through `npm run pulumi`. */
export function passwordCommand(stackName: string, projectLocalBackend: boolean, output = "grafanaAdminPassword"): string {
  const pulumi = projectLocalBackend ? "npm run pulumi --" : "pulumi";
  return `${pulumi} stack output ${output} --show-secrets -s ${stackName}`;
}

/** The closing lines of `npm start`: where the model and the dashboard are, and how to log in. Never a secret value. */
export function startSummary(outputs: OutputMap, options: { stackName: string; projectLocalBackend: boolean }): string[] {
  const plain = (name: string): string => {
    const output = outputs[name];
    if (output === undefined || output.secret || typeof output.value !== "string") {
      throw new Error(`the stack has no plain string output ${name}; is this the tfserving-platform program?`);
    }
    return output.value;
  };
  return [
    `servingUrl:   ${plain("servingUrl")}`,
    `dashboardUrl: ${plain("dashboardUrl")}`,
    `Grafana login: ${plain("grafanaAdminUser")}; password: ${passwordCommand(options.stackName, options.projectLocalBackend)}`,
    // The front door's header, and where the keys are (a public endpoint has neither).
    ...(outputs.apiKeyHeader?.value
      ? [`Predict with the header "${plain("apiKeyHeader")}"; keys: ${passwordCommand(options.stackName, options.projectLocalBackend, "apiKeys")}`]
      : []),
  ];
}
