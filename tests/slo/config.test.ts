import { parse, problemsOf } from "../support/configParse";

describe("SLO config keys", () => {
  it("defaults: 99.9% available, 99% of REST predict calls under 393.464 ms, over 30d, with 30d of retention", () => {
    for (const stack of ["dev", "prod"]) {
      const values = stack === "prod" ? { modelDir: "model", deployTarget: "railway", railwayService: "tfserving", railwayToken: "t", publicEndpoint: "true" } : {};
      const config = parse(values, stack);
      expect(config).toMatchObject({
        sloAvailabilityObjective: 0.999,
        sloLatencyObjective: 0.99,
        sloLatencyThresholdMs: 393.464,
        sloLatencyThresholdUs: 393464,
        sloPeriod: "30d",
        prometheusRetention: "30d",
      });
    }
  });

  it("accepts every TF Serving bucket bound as a threshold, in ms, and the 28d period", () => {
    expect(parse({ sloLatencyThresholdMs: "1274.82", sloPeriod: "28d" })).toMatchObject({ sloLatencyThresholdUs: 1274820, sloPeriod: "28d" });
    expect(parse({ sloLatencyThresholdMs: "0.01" }).sloLatencyThresholdUs).toBe(10);
    expect(parse({ sloLatencyThresholdMs: "67.4664" }).sloLatencyThresholdUs).toBe(67466.4);
  });

  it("rejects a threshold between two bounds, naming the key and the two nearest bounds", () => {
    const message = problemsOf({ sloLatencyThresholdMs: "500" });
    expect(message).toContain("tfserving-platform:sloLatencyThresholdMs: 500 ms is not a bound of TF Serving's latency histogram");
    expect(message).toContain("the nearest bounds are 393.464 ms and 708.235 ms");
    expect(message).toContain("pulumi config set tfserving-platform:sloLatencyThresholdMs 393.464");
  });

  it("rejects a threshold beyond the last bound, naming the last one", () => {
    expect(problemsOf({ sloLatencyThresholdMs: "2000000" })).toContain("the nearest bound is 1474760 ms;");
  });

  it("rejects a retention shorter than the period, naming both keys", () => {
    const message = problemsOf({ prometheusRetention: "15d" });
    expect(message).toContain("tfserving-platform:prometheusRetention: 15d is shorter than tfserving-platform:sloPeriod (30d)");
    expect(parse({ prometheusRetention: "28d", sloPeriod: "28d" }).prometheusRetention).toBe("28d");
    expect(problemsOf({ prometheusRetention: "27d", sloPeriod: "28d" })).toContain("tfserving-platform:prometheusRetention: 27d is shorter than tfserving-platform:sloPeriod (28d)");
  });

  it("rejects periods other than 30d and 28d, and objectives that are no ratio", () => {
    expect(problemsOf({ sloPeriod: "7d" })).toContain("tfserving-platform:sloPeriod: must be 30d or 28d");
    expect(problemsOf({ sloAvailabilityObjective: "99.9" })).toContain("tfserving-platform:sloAvailabilityObjective: must be a ratio below 1, e.g. 0.999");
    expect(problemsOf({ sloLatencyObjective: "0" })).toContain("tfserving-platform:sloLatencyObjective: must be above 0");
  });

  it("rejects an objective whose budget no page could ever detect (6x the budget at or above 100% errors)", () => {
    expect(problemsOf({ sloAvailabilityObjective: "0.8" })).toContain("tfserving-platform:sloAvailabilityObjective: 0.8 leaves a budget so large");
    expect(parse({ sloAvailabilityObjective: "0.9" }).sloAvailabilityObjective).toBe(0.9);
  });
});
