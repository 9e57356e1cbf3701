import { stringify } from "yaml";
import { StackConfig, durationMs } from "../config/stackConfig";
import { SloRulesInput, sloRuleGroups, sloRulesInput } from "../slo/rules";
import {
  AlertThresholds,
  COUNTER_RESETS_LIMIT,
  MetricsMode,
  PUSH_FRESHNESS_WINDOW,
  alertExpressions,
  edgeQueries,
  edgeServerErrorsExpression,
  internalsQueries,
  internalsRecordingExpressions,
  recordingExpressions,
  servingQueries,
} from "./promql";

/** Alert names are a contract (README runbook headings, Alertmanager routes, dashboards). */
export const ALERT_NAMES = [
  "TFServingLowTraffic",
  "TFServingTrafficSpike",
  "TFServingHighErrorRate",
  "TFServingHighLatencyP95",
  "TFServingTargetDown",
  "TFServingCounterResets",
  "TFServingModelLoadFailed",
  "TFServingEdgeServerErrors",
  "Watchdog",
  "TFServingAvailabilityBudgetBurn",
  "TFServingLatencyBudgetBurn",
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

/** Alerts computed from the scraped traffic: blind, and so inhibited, while TFServingTargetDown fires for their job. */
export const TRAFFIC_ALERTS = [
  "TFServingLowTraffic",
  "TFServingTrafficSpike",
  "TFServingHighErrorRate",
  "TFServingHighLatencyP95",
  "TFServingCounterResets",
  "TFServingModelLoadFailed",
  "TFServingEdgeServerErrors",
  "TFServingAvailabilityBudgetBurn",
  "TFServingLatencyBudgetBurn",
] as const satisfies readonly AlertName[];

/** Runbooks are README sections headed `### <AlertName>`, so the anchor is the lowercase name. */
export const DEFAULT_RUNBOOK_BASE_URL = "README.md";

/** 12 failed scrapes at the default 5s interval: long enough to ride out one restart of the target. */
export const TARGET_DOWN_FOR = "1m";

/** A failed load is retried (--max_num_load_retries, 5 by default, a minute apart); one that has not succeeded by then stays failed. */
export const MODEL_LOAD_FAILED_FOR = "1m";

/** Counter resets must keep coming this long: a rollout restarts each server once. */
export const COUNTER_RESETS_FOR = "5m";

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: AlertName;
  expr: string;
  for?: string;
  /** `job` names the scrape job a TF Serving alert is about, so Alertmanager can inhibit per job. */
  labels: { severity: "critical" | "warning" | "none"; job?: string; sloth_severity?: "page" | "ticket" };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup<R> {
  name: string;
  /** Omitted: the global evaluation_interval applies. */
  interval?: string;
  rules: R[];
}

export interface RuleGroups {
  recording: RuleGroup<RecordingRule>;
  alerting: RuleGroup<AlertingRule>;
  /** The SLO groups, in Sloth's names (components/slo/rules.ts). */
  slo: RuleGroup<RecordingRule | AlertingRule>[];
}

export interface RulesInput {
  modelName: string;
  /** The TF Serving scrape job, whose `up` series TFServingTargetDown watches. */
  jobName: string;
  /** Scrape (the default) or push: changes what "target down" means. */
  metricsMode?: MetricsMode;
  thresholds: AlertThresholds;
  lowTrafficFor: string;
  spikeFor: string;
  errorRatioFor: string;
  latencyFor: string;
  targetDownFor?: string;
  /** Where runbook anchors live; a relative README link unless a published docs URL is given. */
  runbookBaseUrl?: string;
  /** The SLOs and their budget-burn alerts; none without it. */
  slo?: SloRulesInput;
}

/** The rules the stack's config asks for. */
export function rulesInput(config: StackConfig): RulesInput {
  return {
    modelName: config.modelName,
    jobName: config.scrapeJobName,
    metricsMode: config.metricsMode,
    thresholds: {
      lowTrafficThresholdRps: config.lowTrafficThresholdRps,
      spikeFactor: config.spikeFactor,
      spikeMinBaselineRps: config.spikeMinBaselineRps,
      errorRatioThreshold: config.errorRatioThreshold,
      latencyP95ThresholdMs: config.latencyP95ThresholdMs,
    },
    lowTrafficFor: config.lowTrafficFor,
    spikeFor: config.spikeFor,
    errorRatioFor: config.errorRatioFor,
    latencyFor: config.latencyFor,
    slo: sloRulesInput(config),
  };
}

export function runbookUrl(alert: AlertName, baseUrl: string = DEFAULT_RUNBOOK_BASE_URL): string {
  return `${baseUrl}#${alert.toLowerCase()}`;
}

/**
 * The recording and alerting rule groups as data: tests and the end-to-end suite can change
 * intervals on these objects before rendering them with renderRules.
 */
export function ruleGroups(input: RulesInput): RuleGroups {
  const durations = {
    lowTrafficFor: input.lowTrafficFor,
    spikeFor: input.spikeFor,
    errorRatioFor: input.errorRatioFor,
    latencyFor: input.latencyFor,
    targetDownFor: input.targetDownFor ?? TARGET_DOWN_FOR,
  };
  for (const [name, value] of Object.entries(durations)) {
    if (durationMs(value) === undefined) {
      // targetDownFor is a renderer option (tests shorten it), not a stack config key.
      const where = name === "targetDownFor" ? "rules renderer option targetDownFor" : `tfserving-platform:${name}`;
      throw new Error(`${where}: "${value}" is not a Prometheus duration; set it to e.g. 5m`);
    }
  }
  const push = input.metricsMode === "push";
  const queries = servingQueries(input.modelName, input.jobName, input.metricsMode);
  const expressions = alertExpressions(queries, input.thresholds);
  const internals = internalsQueries(input.modelName);
  const t = input.thresholds;
  const model = input.modelName;
  const alert = (
    name: AlertName,
    expr: string,
    forDuration: string | undefined,
    severity: AlertingRule["labels"]["severity"],
    summary: string,
    description: string,
  ): AlertingRule => ({
    alert: name,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    // Aggregated traffic expressions drop `job`; the rule puts it back. Watchdog is about no job.
    labels: name === "Watchdog" ? { severity } : { severity, job: input.jobName },
    annotations: { summary, description, runbook_url: runbookUrl(name, input.runbookBaseUrl) },
  });

  // Annotations are fixed text (thresholds and the config keys that set them) rather than `{{ $value }}`
  // templates, so promtool tests can assert them exactly; the current value is one click away in Prometheus.
  return {
    recording: {
      name: "tfserving-recording",
      rules: [...recordingExpressions(queries), ...internalsRecordingExpressions(internals)].map(({ record, expr }) => ({ record, expr, labels: { model_name: model } })),
    },
    alerting: {
      name: "tfserving-alerts",
      rules: [
        alert(
          "TFServingLowTraffic",
          expressions.lowTraffic,
          durations.lowTrafficFor,
          "warning",
          `${model} receives almost no requests`,
          `The 5m request rate of ${model} has stayed below ${t.lowTrafficThresholdRps} req/s for ${durations.lowTrafficFor} ` +
            `(tfserving-platform:lowTrafficThresholdRps, lowTrafficFor). Clients may be failing before they reach TF Serving.`,
        ),
        alert(
          "TFServingTrafficSpike",
          expressions.trafficSpike,
          durations.spikeFor,
          "warning",
          `${model} request rate spiked`,
          `The 1m request rate of ${model} is above ${t.spikeFactor}x its 15m rate while the 15m rate exceeds ` +
            `${t.spikeMinBaselineRps} req/s (tfserving-platform:spikeFactor, spikeMinBaselineRps, spikeFor).`,
        ),
        alert(
          "TFServingHighErrorRate",
          expressions.highErrorRatio,
          durations.errorRatioFor,
          // TFServingAvailabilityBudgetBurn pages; this stays a fast, non-paging signal.
          "warning",
          `${model} answers too many requests with errors`,
          `More than ${Number((t.errorRatioThreshold * 100).toPrecision(6))}% of requests to ${model} over 5m had a status other than OK ` +
            `(tfserving-platform:errorRatioThreshold, errorRatioFor).`,
        ),
        alert(
          "TFServingHighLatencyP95",
          expressions.highLatencyP95,
          durations.latencyFor,
          "warning",
          `${model} REST predict p95 latency is high`,
          `The 95th percentile of successful REST predict latency of ${model} over 5m is above ${t.latencyP95ThresholdMs} ms ` +
            `(tfserving-platform:latencyP95ThresholdMs, latencyFor).`,
        ),
        alert(
          "TFServingTargetDown",
          expressions.targetDown,
          durations.targetDownFor,
          "critical",
          push ? `A TF Serving replica is down, or no replica pushes metrics (job ${input.jobName})` : `Prometheus cannot scrape TF Serving (job ${input.jobName})`,
          push
            ? `For ${durations.targetDownFor}, a replica's agent has reported its TF Serving as down (see the replica label), or no replica ` +
                `has pushed a sample of job ${input.jobName} within ${PUSH_FRESHNESS_WINDOW}, so every other TF Serving alert is blind.`
            : `The scrape job ${input.jobName} has been down or missing for ${durations.targetDownFor}, so every other ` +
                `TF Serving alert is blind.`,
        ),
        alert(
          "TFServingCounterResets",
          expressions.counterResets,
          COUNTER_RESETS_FOR,
          "warning",
          `${model} request counters keep going backwards (job ${input.jobName})`,
          `A request counter of ${model} went backwards more than ${COUNTER_RESETS_LIMIT} times in 5m, for ${COUNTER_RESETS_FOR}. ` +
            (push
              ? "Each replica pushes its own series, so TF Serving is restarting over and over."
              : "Most likely the scraped domain balances over several replicas whose counters interleave, which makes every rate, " +
                "panel and alert wrong: run one replica, or switch to tfserving-platform:metricsMode push. Otherwise TF Serving restarts over and over."),
        ),
        alert(
          "TFServingModelLoadFailed",
          internals.failedLoads,
          MODEL_LOAD_FAILED_FOR,
          "warning",
          `A version of ${model} failed to load (job ${input.jobName})`,
          `TF Serving tried to load a version of ${model} (see model_path) and failed, and it has not loaded since. TF Serving ` +
            "keeps serving the version it had, or none on a fresh start (requests then fail with NOT_FOUND).",
        ),
        alert(
          "TFServingEdgeServerErrors",
          edgeServerErrorsExpression(edgeQueries(input.jobName), t),
          durations.errorRatioFor,
          "critical",
          `The front door of ${model} answers too many requests with 5xx`,
          `More than ${Number((t.errorRatioThreshold * 100).toPrecision(6))}% of the front door's answers over 5m were 5xx ` +
            `(tfserving-platform:errorRatioThreshold, errorRatioFor): TF Serving is unreachable behind it (502), too slow (504), ` +
            `or failing; failures TF Serving's own counters may never see.`,
        ),
        alert(
          "Watchdog",
          expressions.watchdog,
          undefined,
          "none",
          "Alerting pipeline heartbeat",
          "Always firing. If it stops arriving at the receiver, Prometheus rule evaluation or alert delivery is broken.",
        ),
      ],
    },
    slo: input.slo ? sloRuleGroups({ runbookBaseUrl: input.runbookBaseUrl, ...input.slo }) : [],
  };
}

/** The rules file Prometheus loads (`groups:`), from the group objects. */
export function renderRules(groups: RuleGroups): string {
  return stringify({ groups: [groups.recording, groups.alerting, ...groups.slo] }, { lineWidth: 0 });
}
