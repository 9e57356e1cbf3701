import { parse, problemsOf } from "./support/configParse";

const railway = { modelDir: "m", deployTarget: "railway", railwayService: "svc", railwayToken: "railway-token-3f9c1a", publicEndpoint: "true" };

describe("push mode, receiver and forwarding config", () => {
  it("defaults to scrape mode without receiver or forwarding", () => {
    const config = parse({ modelDir: "m" });
    expect(config).toMatchObject({ metricsMode: "scrape", receiverBindAddress: "0.0.0.0" });
    expect(config.receiverUrl).toBeUndefined();
    expect(config.remoteWriteUrl).toBeUndefined();
  });

  it("dev push needs nothing else (agents push over the stack network); railway push needs an https receiverUrl", () => {
    expect(parse({ modelDir: "m", metricsMode: "push" }).metricsMode).toBe("push");
    expect(problemsOf({ ...railway, metricsMode: "push" })).toMatch(/tfserving-platform:receiverUrl: is required when metricsMode is push and deployTarget is railway/);
    expect(problemsOf({ ...railway, metricsMode: "push", receiverUrl: "http://203.0.113.7:9443/api/v1/write" })).toMatch(/tfserving-platform:receiverUrl: must be https/);
    expect(parse({ ...railway, metricsMode: "push", receiverUrl: "https://metrics.example.com/api/v1/write" }).receiverUrl).toBe("https://metrics.example.com/api/v1/write");
  });

  it("rejects an unknown mode and a receiver URL that is no URL, naming the keys", () => {
    expect(problemsOf({ modelDir: "m", metricsMode: "pull" })).toMatch(/tfserving-platform:metricsMode: must be `scrape`/);
    expect(problemsOf({ modelDir: "m", metricsMode: "push", receiverUrl: "metrics.example.com" })).toMatch(/tfserving-platform:receiverUrl: must be an http\(s\) URL/);
  });

  it("receiver keys only in push mode", () => {
    expect(problemsOf({ modelDir: "m", receiverUrl: "https://x/api/v1/write" })).toMatch(/tfserving-platform:receiverUrl: configure the remote-write receiver, which exists only in push mode/);
  });

  it("publishing the receiver on a host port needs TLS; certificate and key come together", () => {
    expect(problemsOf({ modelDir: "m", metricsMode: "push", receiverHostPort: "9443" })).toMatch(/tfserving-platform:receiverHostPort: publishing the receiver needs TLS/);
    expect(problemsOf({ modelDir: "m", metricsMode: "push", receiverTlsCertFile: "tls.crt" })).toMatch(/tfserving-platform:receiverTlsKey: is required with tfserving-platform:receiverTlsCertFile/);
    expect(problemsOf({ modelDir: "m", metricsMode: "push", receiverTlsKey: "-----BEGIN PRIVATE KEY-----" })).toMatch(/tfserving-platform:receiverTlsCertFile: is required with/);
    expect(problemsOf({ modelDir: "m", metricsMode: "push", receiverTlsCertFile: "tls.crt", receiverTlsKey: "k" })).toMatch(
      /tfserving-platform:receiverUrl: is required with tfserving-platform:receiverTlsCertFile/,
    );
    const config = parse({
      modelDir: "m",
      metricsMode: "push",
      receiverUrl: "https://metrics.example.com:9443/api/v1/write",
      receiverHostPort: "9443",
      receiverTlsCertFile: "tls/receiver.crt",
      receiverTlsKey: "k",
    });
    expect(config.receiverTlsCertFileAbsolute).toBe("/project/tls/receiver.crt");
  });

  it("the secret key's value never appears in a problem", () => {
    expect(problemsOf({ modelDir: "m", receiverTlsKey: "super-secret-key-text" })).not.toContain("super-secret-key-text");
  });

  it("forwarding: URL, basic auth in pairs, headers as a JSON object of strings", () => {
    const config = parse({
      modelDir: "m",
      remoteWriteUrl: "https://mimir.example.com/api/v1/push",
      remoteWriteUsername: "tenant",
      remoteWritePassword: "pw",
      remoteWriteHeaders: '{"X-Scope-OrgID":"team-a"}',
    });
    expect(config.remoteWriteHeaders).toEqual({ "X-Scope-OrgID": "team-a" });
    expect(problemsOf({ modelDir: "m", remoteWriteUsername: "tenant" })).toMatch(/tfserving-platform:remoteWriteUsername: forwarding settings without tfserving-platform:remoteWriteUrl/);
    expect(problemsOf({ modelDir: "m", remoteWriteUrl: "https://m/api/v1/push", remoteWriteUsername: "tenant" })).toMatch(/tfserving-platform:remoteWritePassword: is required with/);
    expect(problemsOf({ modelDir: "m", remoteWriteUrl: "https://m/api/v1/push", remoteWritePassword: "pw" })).toMatch(/tfserving-platform:remoteWriteUsername: is required with/);
    expect(problemsOf({ modelDir: "m", remoteWriteUrl: "https://m/api/v1/push", remoteWriteHeaders: "X-Scope-OrgID: a" })).toMatch(/tfserving-platform:remoteWriteHeaders: must be a JSON object/);
    expect(problemsOf({ modelDir: "m", remoteWriteUrl: "https://m/api/v1/push", remoteWriteHeaders: '{"X-Org": 1}' })).toMatch(/tfserving-platform:remoteWriteHeaders/);
  });

  it("TF Serving's ports must not take the agent's port in push mode", () => {
    expect(problemsOf({ modelDir: "m", metricsMode: "push", restPort: "9095" })).toMatch(/tfserving-platform:restPort: 9095 is the port of the Prometheus agent/);
    expect(parse({ modelDir: "m", restPort: "9095" }).restPort).toBe(9095);
  });

  it("push mode on Railway serves metrics at an unguessable per-stack path derived from the token, not containing it", () => {
    const push = { ...railway, metricsMode: "push", receiverUrl: "https://m.example.com/api/v1/write" };
    const served = parse(push).servedMetricsPath;
    expect(served).toMatch(/^\/monitoring\/prometheus\/metrics\/[0-9a-f]{32}$/);
    expect(parse(push).servedMetricsPath).toBe(served);
    expect(parse({ ...push, railwayToken: "another-token" }).servedMetricsPath).not.toBe(served);
    // Two stacks (or services) sharing one account token still get different paths.
    expect(parse(push, "staging").servedMetricsPath).not.toBe(served);
    expect(parse({ ...push, railwayService: "other-svc" }).servedMetricsPath).not.toBe(served);
    expect(served).not.toContain(railway.railwayToken);
    // Scrape mode needs the path public (our Prometheus scrapes it); dev publishes nothing beyond loopback.
    expect(parse(railway).servedMetricsPath).toBe("/monitoring/prometheus/metrics");
    expect(parse({ modelDir: "m", metricsMode: "push" }).servedMetricsPath).toBe("/monitoring/prometheus/metrics");
  });
});
