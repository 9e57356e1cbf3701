/**
 * One evaluation of index.ts under Pulumi's mocks, in its own process (a fresh runtime each time).
 * Reads {stack, modelDir} as JSON from BENCH_OPTIONS and writes timing plus resources to BENCH_RESULT
 * (stdout belongs to Pulumi's log lines).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluateWithMocks, stackRunOptions } from "../tests/support/mockProgram";

async function main(): Promise<void> {
  const { stack, modelDir } = JSON.parse(process.env.BENCH_OPTIONS ?? "{}");
  const started = process.hrtime.bigint();
  const pulumi = await import("@pulumi/pulumi");
  const result = await evaluateWithMocks(pulumi, () => import(path.join(__dirname, "..", "index")), stackRunOptions(stack, modelDir));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  fs.writeFileSync(process.env.BENCH_RESULT!, JSON.stringify({ elapsedMs, resources: result.resources, outputs: result.outputs }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
