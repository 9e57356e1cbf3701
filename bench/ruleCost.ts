/**
 * What the rules cost the real Prometheus binary, with and without the SLO rules, at 1, 10 and 50 replicas
 * in push mode: every replica's series told apart by `replica`, as the agents push them. The SLO rules read
 * up to 3 days back, so each run first backfills 3 days of the series they read, raw and recorded
 * (promtool tsdb create-blocks-from openmetrics), then Prometheus scrapes a simulated TF Serving once per replica, so its
 * head holds every family TF Serving exports. Figures, not tests.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { durationMs, parseStackConfig } from "../components/config/stackConfig";
import { prometheusLeValue } from "../components/monitoring/latencyBuckets";
import { METRICS, SLOTH, SLO_EVENTS, sloLabels } from "../components/monitoring/promql";
import { RuleGroups, renderRules, ruleGroups, rulesInput } from "../components/monitoring/rules";
import { presetScenario } from "../scripts/simulator/scenario";
import { startSimulator } from "../scripts/simulator/server";
import { monitoringTool } from "../tests/support/monitoringTools";
import { freePort, sleep, startServerProcess } from "../tests/support/serverProcess";

export const REPLICA_COUNTS = [1, 10, 50];
/** Backfilled samples are this far apart; production scrapes every scrapeInterval (5s), 3x as dense. */
const BACKFILL_STEP_S = Number(process.env.BENCH_BACKFILL_STEP_S ?? 15);
const BACKFILL_S = 3 * 24 * 3600;
const READINGS = 3;

export interface RuleCost {
  replicas: number;
  slo: boolean;
  /** Sum over every group of its last evaluation's duration, median of READINGS, in seconds. */
  ruleSeconds: number;
  /** The SLO groups' part of ruleSeconds. */
  sloSeconds: number;
  intervalSeconds: number;
  rssBytes: number;
  headSeries: number;
}

const config = parseStackConfig({ stack: "dev", projectDir: path.resolve(__dirname, ".."), values: { metricsMode: "push" } });

/** 3 days of the series the SLO rules read, per replica, 0.5% errors and 0.5% slow requests, as OpenMetrics text. */
function writeBackfill(file: string, replicas: number, instance: string, endS: number): void {
  const fd = fs.openSync(file, "w");
  const model = `model_name="${config.modelName}"`;
  const rest = `${model},API="predict",entrypoint="REST"`;
  // As Prometheus 3 stores a scraped bound (393464.0), so the live scrapes continue these series.
  const le = prometheusLeValue(config.sloLatencyThresholdUs);
  const perStep = 20 * BACKFILL_STEP_S;
  const families: [string, (replica: string) => string, number][] = [
    [METRICS.requestCount, (replica) => `${model},status="OK",${target(replica)}`, perStep * 0.995],
    [METRICS.requestCount, (replica) => `${model},status="UNAVAILABLE",${target(replica)}`, perStep * 0.005],
    [`${METRICS.requestLatency}_count`, (replica) => `${rest},${target(replica)}`, perStep * 0.995],
    [`${METRICS.requestLatency}_bucket`, (replica) => `${rest},${target(replica)},le="${le}"`, perStep * 0.99],
  ];
  function target(replica: string) {
    return `job="${config.scrapeJobName}",instance="${instance}",replica="${replica}"`;
  }
  const write = (series: string, fromS: number, stepS: number, value: (index: number) => number) => {
    const lines: string[] = [];
    for (let t = fromS, index = 0; t < endS; t += stepS, index++) lines.push(`${series} ${value(index)} ${t}`);
    fs.writeSync(fd, `${lines.join("\n")}\n`);
  };
  let lastName = "";
  for (const [name, labels, increment] of families) {
    if (name !== lastName) fs.writeSync(fd, `# TYPE ${name} unknown\n`);
    lastName = name;
    for (let index = 0; index < replicas; index++) write(`${name}{${labels(`r${index + 1}`)}}`, endS - BACKFILL_S, BACKFILL_STEP_S, (step) => step * increment);
  }
  // What the SLO rules would have recorded meanwhile (every evaluation interval): the long windows and the period read these.
  const evaluationS = durationMs(config.evaluationInterval)! / 1000;
  const recorded: [string, number][] = [
    [SLO_EVENTS.bad, 0.1 * replicas],
    [SLO_EVENTS.all, 20 * replicas],
    // The period's SLI reads 30 days of this one series per SLO; 3 days here (promtool writes a block per 2h).
    [SLOTH.sliErrorRatio("5m"), 0.005],
  ];
  for (const [name, value] of recorded) {
    fs.writeSync(fd, `# TYPE ${name} unknown\n`);
    for (const slo of ["availability", "latency"] as const) {
      const labels = Object.entries(sloLabels(config.modelName, slo)).map(([label, text]) => `${label}="${text}"`);
      if (name === SLOTH.sliErrorRatio("5m")) labels.push('sloth_window="5m"');
      write(`${name}{${labels.join(",")}}`, endS - BACKFILL_S, evaluationS, () => value);
    }
  }
  fs.writeSync(fd, "# EOF\n");
  fs.closeSync(fd);
}

/** The stack's rule groups, with or without the SLO groups. */
function rulesOf(slo: boolean): RuleGroups {
  const groups = ruleGroups(rulesInput(config));
  return slo ? groups : { ...groups, slo: [] };
}

const metricValues = (text: string, name: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => ({ line, value: Number(line.slice(line.lastIndexOf(" ") + 1)) }));

async function measure(dir: string, replicas: number, slo: boolean, simulatorPort: number): Promise<RuleCost> {
  const port = await freePort();
  const rulesFile = path.join(dir, `rules-${slo}.yml`);
  fs.writeFileSync(rulesFile, renderRules(rulesOf(slo)));
  const configFile = path.join(dir, `prometheus-${slo}.yml`);
  fs.writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: config.globalScrapeInterval, evaluation_interval: config.evaluationInterval },
      rule_files: [rulesFile],
      scrape_configs: [
        {
          job_name: config.scrapeJobName,
          scrape_interval: config.scrapeInterval,
          metrics_path: config.metricsPath,
          // One target per replica: the same simulated server, a distinct `replica` as each agent's series carry.
          static_configs: Array.from({ length: replicas }, (_, index) => ({ targets: [`127.0.0.1:${simulatorPort}`], labels: { replica: `r${index + 1}` } })),
        },
      ],
    }),
  );
  const server = await startServerProcess(
    "prometheus",
    monitoringTool("prometheus"),
    [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${path.join(dir, "tsdb")}`, "--storage.tsdb.retention.time=30d", "--log.level=error"],
    `http://127.0.0.1:${port}/-/ready`,
  );
  try {
    const intervalSeconds = durationMs(config.evaluationInterval)! / 1000;
    const readings: { rule: number; slo: number; rss: number; head: number }[] = [];
    // The first evaluation also loads the backfilled chunks: skip it, then read once per interval.
    await sleep(intervalSeconds * 1000 * 1.5);
    for (let reading = 0; reading < READINGS; reading++) {
      await sleep(intervalSeconds * 1000);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const groups = metricValues(text, "prometheus_rule_group_last_duration_seconds");
      readings.push({
        rule: groups.reduce((sum, group) => sum + group.value, 0),
        slo: groups.filter((group) => group.line.includes(";sloth-slo-")).reduce((sum, group) => sum + group.value, 0),
        rss: metricValues(text, "process_resident_memory_bytes")[0]?.value ?? NaN,
        head: metricValues(text, "prometheus_tsdb_head_series")[0]?.value ?? NaN,
      });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      replicas,
      slo,
      ruleSeconds: median(readings.map((r) => r.rule)),
      sloSeconds: median(readings.map((r) => r.slo)),
      intervalSeconds,
      rssBytes: readings[readings.length - 1].rss,
      headSeries: readings[readings.length - 1].head,
    };
  } finally {
    await server.stop();
  }
}

/** One run per replica count: backfill, then Prometheus without and with the SLO rules on the same data. */
export async function ruleCosts(work: string): Promise<RuleCost[]> {
  const simulator = await startSimulator({ modelName: config.modelName, metricsPath: config.metricsPath, scenario: presetScenario("steady") });
  const results: RuleCost[] = [];
  try {
    for (const replicas of REPLICA_COUNTS) {
      const dir = fs.mkdtempSync(path.join(work, `rules-${replicas}-`));
      const backfill = path.join(dir, "backfill.om");
      writeBackfill(backfill, replicas, `127.0.0.1:${simulator.port}`, Math.floor(Date.now() / 1000) - 60);
      const created = spawnSync(monitoringTool("promtool"), ["tsdb", "create-blocks-from", "openmetrics", backfill, path.join(dir, "tsdb")], { encoding: "utf8" });
      if (created.status !== 0) throw new Error(`promtool tsdb create-blocks-from: ${created.stderr.slice(-500)}`);
      fs.rmSync(backfill);
      for (const slo of [false, true]) results.push(await measure(dir, replicas, slo, simulator.port));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await simulator.close();
  }
  return results;
}
