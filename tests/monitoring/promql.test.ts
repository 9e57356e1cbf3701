import { parser } from "@prometheus-io/lezer-promql";
import { RECORDED, alertExpressions, recordingExpressions, servingQueries } from "../../components/monitoring/promql";

const queries = servingQueries("diabetes-prediction", "tf-serving-local");
const pushQueries = servingQueries("diabetes-prediction", "tf-serving-railway", "push");
const thresholds = { lowTrafficThresholdRps: 0.01, spikeFactor: 3, spikeMinBaselineRps: 0.1, errorRatioThreshold: 0.05, latencyP95ThresholdMs: 500 };

/** Every expression the module can produce, by name, for the windows and quantiles the project uses. */
function everyExpression(): [string, string][] {
  const expressions: [string, string][] = [
    ["totalRequests", queries.totalRequests],
    ["requestsByStatus", queries.requestsByStatus],
    ["targetUp", queries.targetUp],
  ];
  for (const window of ["1m", "5m", "15m"] as const) {
    expressions.push(
      [`requestRate(${window})`, queries.requestRate(window)],
      [`requestRateByStatus(${window})`, queries.requestRateByStatus(window)],
      [`errorRate(${window})`, queries.errorRate(window)],
      [`errorRatio(${window})`, queries.errorRatio(window)],
      [`meanLatencyMs(${window})`, queries.meanLatencyMs(window)],
      [`latencyQuantileMs(0.95, ${window})`, queries.latencyQuantileMs(0.95, window)],
      [`latencyQuantileMs(0.99, ${window})`, queries.latencyQuantileMs(0.99, window)],
      [`requestRateByReplica(${window})`, queries.requestRateByReplica(window)],
      [`latencyQuantileMsByReplica(0.95, ${window})`, queries.latencyQuantileMsByReplica(0.95, window)],
    );
  }
  for (const [name, expr] of Object.entries(alertExpressions(queries, thresholds))) expressions.push([`alert ${name}`, expr]);
  for (const { record, expr } of recordingExpressions(queries)) expressions.push([`record ${record}`, expr]);
  for (const [name, expr] of Object.entries(alertExpressions(pushQueries, thresholds))) expressions.push([`push alert ${name}`, expr]);
  return expressions;
}

function errorNodes(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(node.from, node.to + 10)}"`);
    },
  });
  return errors;
}

describe("PromQL module", () => {
  it("the parser check itself rejects broken PromQL", () => {
    expect(errorNodes("sum(rate(:tensorflow:serving:request_count[5m])")).not.toEqual([]);
  });

  it.each(everyExpression())("%s parses without error nodes", (_name, expr) => {
    expect(errorNodes(expr)).toEqual([]);
  });

  it("names recorded series level:metric:operations, one rule per name", () => {
    const rules = recordingExpressions(queries);
    for (const { record } of rules) expect(record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
    expect(new Set(rules.map((rule) => rule.record)).size).toBe(rules.length);
    expect(rules.map((rule) => rule.record).sort()).toEqual(Object.values(RECORDED).sort());
  });

  it("averages latency from rates over a window, not lifetime sums, and converts microseconds to ms", () => {
    const mean = queries.meanLatencyMs("5m");
    expect(mean).toContain('rate(:tensorflow:serving:request_latency_sum{model_name="diabetes-prediction",API="predict",entrypoint="REST"}[5m])');
    expect(mean).toContain('rate(:tensorflow:serving:request_latency_count{model_name="diabetes-prediction",API="predict",entrypoint="REST"}[5m])');
    expect(mean).toMatch(/\/ 1000$/);
  });

  it("aggregates over all series of the model, never by instance; only per-replica views group, by replica", () => {
    for (const [name, expr] of everyExpression()) expect({ name, byInstance: /by \([^)]*instance/.test(expr) }).toEqual({ name, byInstance: false });
    expect(pushQueries.requestRateByReplica("1m")).toMatch(/^sum by \(replica\) \(rate\(/);
    expect(pushQueries.latencyQuantileMsByReplica(0.95, "5m")).toContain("sum by (replica, le) (rate(");
  });

  it("push mode: target down is a replica's own up == 0, or no fresh sample from any replica", () => {
    expect(alertExpressions(pushQueries, thresholds).targetDown).toBe(
      'up{job="tf-serving-railway"} == 0 or absent_over_time(up{job="tf-serving-railway"}[2m])',
    );
    expect(alertExpressions(queries, thresholds).targetDown).toBe('up{job="tf-serving-local"} == 0 or absent(up{job="tf-serving-local"})');
  });
});
