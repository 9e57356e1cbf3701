/**
 * A simulated TF Serving on 127.0.0.1: its Prometheus exposition driven by a scenario, plus the
 * model status and predict REST calls. Type a scenario name and Enter to switch while it runs.
 *
 *   npm run simulate -- [--port 8501] [--scenario steady] [--rate 20] [--error-ratio 0.02]
 *                       [--error-statuses INVALID_ARGUMENT,UNAVAILABLE] [--latency-ms 20-60]
 */
import * as readline from "node:readline";
import { parseArgs } from "node:util";
import { parseStackConfig } from "../components/config/stackConfig";
import { numberFlag } from "./cliFlags";
import { DEFAULT_BASE, SCENARIO_NAMES, ScenarioName, presetScenario } from "./simulator/scenario";
import { startSimulator } from "./simulator/server";

// The stack's defaults (model name, metrics path), so a default stack's Prometheus config fits the simulator.
const defaults = parseStackConfig({ stack: "simulate", projectDir: process.cwd(), values: { modelDir: "." } });

function scenarioName(text: string): ScenarioName {
  if (!(SCENARIO_NAMES as readonly string[]).includes(text)) throw new Error(`unknown scenario "${text}"; choose one of ${SCENARIO_NAMES.join(", ")}`);
  return text as ScenarioName;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: String(defaults.restPort) },
      model: { type: "string", default: defaults.modelName },
      "metrics-path": { type: "string", default: defaults.metricsPath },
      scenario: { type: "string", default: "steady" },
      rate: { type: "string", default: String(DEFAULT_BASE.ratePerSecond) },
      "error-ratio": { type: "string", default: String(DEFAULT_BASE.errorRatio) },
      "error-statuses": { type: "string", default: DEFAULT_BASE.errorStatuses.join(",") },
      "latency-ms": { type: "string", default: `${DEFAULT_BASE.latencyMs.min}-${DEFAULT_BASE.latencyMs.max}` },
    },
  });
  const latency = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(values["latency-ms"]);
  if (!latency) throw new Error(`--latency-ms must be min-max in ms, e.g. 20-60 (got "${values["latency-ms"]}")`);
  const base = {
    ratePerSecond: numberFlag("rate", values.rate),
    errorRatio: numberFlag("error-ratio", values["error-ratio"]),
    errorStatuses: values["error-statuses"].split(",").filter(Boolean),
    latencyMs: { min: Number(latency[1]), max: Number(latency[2]) },
  };
  const simulator = await startSimulator({
    modelName: values.model,
    metricsPath: values["metrics-path"],
    port: numberFlag("port", values.port),
    scenario: presetScenario(scenarioName(values.scenario), base),
  });
  const describe = () => {
    const s = simulator.scenario();
    return `${s.name}: ${s.ratePerSecond} req/s, ${s.errorRatio * 100}% errors (${s.errorStatuses.join(", ")}), latency ${s.latencyMs.min}-${s.latencyMs.max} ms`;
  };
  console.error(`TF Serving simulator for model ${values.model} on ${simulator.url}`);
  console.error(`  metrics: ${simulator.url}${values["metrics-path"]}`);
  console.error(`  predict: POST ${simulator.url}/v1/models/${values.model}:predict`);
  console.error(`  scenario ${describe()}`);
  console.error(`Type ${SCENARIO_NAMES.join(" | ")} and Enter to switch; Ctrl+C stops.`);

  const input = readline.createInterface({ input: process.stdin });
  input.on("line", (line) => {
    try {
      simulator.setScenario(presetScenario(scenarioName(line.trim()), base));
      console.error(`scenario ${describe()}`);
    } catch (error) {
      console.error((error as Error).message);
    }
  });
  const stop = () => {
    input.close();
    simulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
