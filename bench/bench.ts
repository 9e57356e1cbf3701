/**
 * `npm run bench`: what a no-op `pulumi up` costs on this machine, what the front door costs a predict, and what
 * the alert rules cost Prometheus.
 * Prints a table; always exits 0.
 * Figures, not tests: nothing here asserts a time.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseStackConfig } from "../components/config/stackConfig";
import { frontDoorImageSpec } from "../components/frontDoor/image";
import { renderContextFiles, writeBuildContext } from "../components/serving/buildContext";
import { hashDirectory, listFiles } from "../components/serving/contextHash";
import { scanModelDir } from "../components/serving/modelDir";
import { benchFrontDoor } from "./frontDoor";
import { measureRefreshReads } from "./refreshReads";
import { ruleCosts } from "./ruleCost";

const PROJECT_DIR = path.resolve(__dirname, "..");
const EVALUATIONS = Number(process.env.BENCH_EVALUATIONS ?? 5);
const MODEL_BYTES = Number(process.env.BENCH_MODEL_MIB ?? 1024) * 1024 * 1024;
const TS_NODE = ["--require", "ts-node/register/transpile-only"];

interface Row {
  measure: string;
  value: string;
  goal: string;
}
const rows: Row[] = [];
const record = (measure: string, value: string, goal: string) => {
  rows.push({ measure, value, goal });
  console.error(`${measure}: ${value}`);
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => `${value.toFixed(1)} ms`;

interface Evaluation {
  elapsedMs: number;
  resources: { type: string; name: string; inputs: unknown }[];
}

function evaluate(options: object): Evaluation {
  const resultFile = path.join(os.tmpdir(), `bench-eval-${process.pid}-${crypto.randomUUID()}.json`);
  const child = spawnSync(process.execPath, [...TS_NODE, path.join(__dirname, "evaluateProgram.ts")], {
    cwd: PROJECT_DIR,
    env: { ...process.env, BENCH_OPTIONS: JSON.stringify(options), BENCH_RESULT: resultFile },
    encoding: "utf8",
  });
  if (child.status !== 0) {
    const lines = child.stderr.trim().split("\n");
    throw new Error((lines.find((line) => /Error/.test(line)) ?? lines[lines.length - 1]).trim());
  }
  const result = JSON.parse(fs.readFileSync(resultFile, "utf8"));
  fs.rmSync(resultFile);
  return result;
}

function changedResources(before: Evaluation, after: Evaluation): string[] {
  const inputs = (run: Evaluation) => new Map(run.resources.map((r) => [`${r.type}/${r.name}`, JSON.stringify(r.inputs)]));
  const first = inputs(before);
  const second = inputs(after);
  return [...new Set([...first.keys(), ...second.keys()])].filter((key) => first.get(key) !== second.get(key)).sort();
}

function makeModel(root: string, weightsBytes: number): string {
  const version = path.join(root, "1763528202");
  fs.mkdirSync(path.join(version, "variables"), { recursive: true });
  fs.writeFileSync(path.join(version, "saved_model.pb"), crypto.randomBytes(512 * 1024));
  fs.writeFileSync(path.join(version, "variables", "variables.index"), crypto.randomBytes(4096));
  const chunk = crypto.randomBytes(Math.min(64 * 1024 * 1024, Math.max(weightsBytes, 1)));
  const fd = fs.openSync(path.join(version, "variables", "variables.data-00000-of-00001"), "w");
  for (let written = 0; written < weightsBytes; written += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, weightsBytes - written));
  fs.closeSync(fd);
  return root;
}

const STACKS = ["dev", "prod"] as const;
const withModel = (stack: (typeof STACKS)[number], modelDir: string) => ({ stack, modelDir });

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-bench-"));
  try {
    // 1. Program evaluation under mocks (small model, so the program's own cost shows).
    const smallModel = makeModel(path.join(work, "small-model"), 64 * 1024);
    for (const stack of STACKS) {
      try {
        const times = Array.from({ length: EVALUATIONS }, () => evaluate(withModel(stack, smallModel)).elapsedMs);
        record(`program evaluation, ${stack} (median of ${EVALUATIONS})`, ms(median(times)), "< 2000 ms");
      } catch (error) {
        record(`program evaluation, ${stack}`, `failed: ${(error as Error).message}`, "< 2000 ms");
      }
    }

    // 4. Idempotence, and what one changed byte touches.
    try {
      for (const stack of STACKS) {
        const first = evaluate(withModel(stack, smallModel));
        const second = evaluate(withModel(stack, smallModel));
        record(`resources with different inputs, same config twice (${stack})`, String(changedResources(first, second).length), "0");
      }
      for (const stack of STACKS) {
        const before = evaluate(withModel(stack, smallModel));
        const weights = path.join(smallModel, "1763528202", "variables", "variables.data-00000-of-00001");
        const bytes = fs.readFileSync(weights);
        bytes[0] ^= 0xff;
        fs.writeFileSync(weights, bytes);
        const after = evaluate(withModel(stack, smallModel));
        record(`changed by one model byte (${stack})`, changedResources(before, after).join(", ") || "nothing", "image + deploy + dependents");
      }
    } catch (error) {
      record("idempotence", `failed: ${(error as Error).message}`, "0");
    }

    // 2. Content hashing of a 1 GiB model against openssl over the same bytes.
    const bigModel = makeModel(path.join(work, "big-model"), MODEL_BYTES);
    const files = listFiles(bigModel).map((file) => path.join(bigModel, file));
    const child = (dir: string) => {
      const run = spawnSync(process.execPath, [...TS_NODE, path.join(__dirname, "hashChild.ts"), dir], { cwd: PROJECT_DIR, encoding: "utf8" });
      return JSON.parse(run.stdout) as { elapsedMs: number; maxRssKiB: number };
    };
    const baseline = child(smallModel);
    const ours = child(bigModel);
    const opensslStarted = process.hrtime.bigint();
    const openssl = spawnSync("openssl", ["dgst", "-sha256", ...files], { encoding: "utf8" });
    const opensslMs = Number(process.hrtime.bigint() - opensslStarted) / 1e6;
    const gib = MODEL_BYTES / 1024 ** 3;
    record(`hash ${gib.toFixed(2)} GiB model, ours (cold)`, ms(ours.elapsedMs), "");
    if (openssl.status === 0) {
      record(`hash ${gib.toFixed(2)} GiB model, openssl dgst -sha256`, ms(opensslMs), "");
      record("ours / openssl", `${(ours.elapsedMs / opensslMs).toFixed(2)}x`, "<= 1.5x");
    } else {
      record("openssl dgst -sha256", "openssl not found (apt-get install openssl)", "");
    }
    record(`peak RSS while hashing (${gib.toFixed(2)} GiB vs tiny folder)`, `${(ours.maxRssKiB / 1024).toFixed(0)} MiB vs ${(baseline.maxRssKiB / 1024).toFixed(0)} MiB`, "flat");

    // 3. No-op re-evaluation: render the context again and hash with a warm cache.
    const contextDir = path.join(work, "context");
    const cacheFile = path.join(work, "context.hash-cache.json");
    const spec = { baseImage: "tensorflow/serving:2.20.0", modelName: "diabetes-prediction", restPort: 8501, grpcPort: 8500, metricsPath: "/monitoring/prometheus/metrics", frontDoor: frontDoorImageSpec(parseStackConfig({ stack: "dev", projectDir: PROJECT_DIR, values: {} })) };
    const render = () => writeBuildContext(contextDir, renderContextFiles(spec, "#!/bin/sh\n"), scanModelDir(bigModel).versions);
    render();
    await hashDirectory(contextDir, { cacheFile });
    const noopStarted = process.hrtime.bigint();
    render();
    const warm = await hashDirectory(contextDir, { cacheFile });
    const noopMs = Number(process.hrtime.bigint() - noopStarted) / 1e6;
    record(`no-op render + hash, ${gib.toFixed(2)} GiB model (warm cache; files read: ${warm.filesRead})`, ms(noopMs), "< 50 ms");

    // 5. Build context overhead beyond the model's own bytes.
    const contextBytes = listFiles(contextDir).reduce((sum, file) => sum + fs.statSync(path.join(contextDir, file)).size, 0);
    const modelBytes = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
    record("build context size minus model size", `${((contextBytes - modelBytes) / 1024).toFixed(2)} KiB`, "< 16 KiB");

    // 6. The Docker engine's share of npm start's refresh of a dev stack.
    const reads = await measureRefreshReads(work);
    record("refresh: the 8 Docker inspects of a dev stack (median of 20)", "medianMs" in reads ? ms(reads.medianMs) : `not measured: ${reads.skipped}`, "");

    // 7. The front door (caddy) in front of the simulator: latency and throughput against going straight.
    await benchFrontDoor(record, PROJECT_DIR);

    // 8. Rule evaluation on the real Prometheus, push-mode series at 1, 10 and 50 replicas, without and with the SLO rules.
    try {
      for (const cost of await ruleCosts(work)) {
        const share = (seconds: number) => `${((seconds / cost.intervalSeconds) * 100).toFixed(3)}%`;
        record(
          `rule evaluation / ${cost.intervalSeconds}s interval, ${cost.replicas} replica${cost.replicas === 1 ? "" : "s"}, ${cost.slo ? "with" : "without"} SLO rules`,
          `${share(cost.ruleSeconds)} (${ms(cost.ruleSeconds * 1000)}${cost.slo ? `, SLO groups ${ms(cost.sloSeconds * 1000)}` : ""}); ` +
            `RSS ${(cost.rssBytes / 1024 ** 2).toFixed(0)} MiB, ${cost.headSeries} head series`,
          cost.slo && cost.replicas === 50 ? "< 1%" : "",
        );
      }
    } catch (error) {
      record("rule evaluation", `failed: ${(error as Error).message}`, "< 1%");
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`\nMachine: ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}\n`);
  const width = (key: keyof Row) => Math.max(key.length, ...rows.map((row) => row[key].length));
  const line = (row: Row) => `| ${row.measure.padEnd(width("measure"))} | ${row.value.padEnd(width("value"))} | ${row.goal.padEnd(width("goal"))} |`;
  console.log(line({ measure: "measure", value: "value", goal: "goal" }));
  console.log(`|${"-".repeat(width("measure") + 2)}|${"-".repeat(width("value") + 2)}|${"-".repeat(width("goal") + 2)}|`);
  for (const row of rows) console.log(line(row));
}

main().catch((error) => {
  console.error(error);
}).finally(() => process.exit(0));
