import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { requireTool } from "./tools";

export interface TestCertificates {
  caFile: string;
  key: string;
  cert: string;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr}`);
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it, in `dir`; valid for one day. */
export function makeTestCertificates(dir: string): TestCertificates {
  requireTool("openssl", "apt-get install openssl", ["version"]);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, [
    "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=tfserving e2e test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl(dir, ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  // Go's TLS (Prometheus) checks the IP against subjectAltName only, never the CN.
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext"]);
  return {
    caFile: path.join(dir, "ca.crt"),
    key: fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    cert: fs.readFileSync(path.join(dir, "server.crt"), "utf8"),
  };
}
