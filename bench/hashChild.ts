/** Hashes one folder without a cache and reports time and peak memory, isolated from the benchmark's own allocations. */
import { hashDirectory } from "../components/serving/contextHash";

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const digest = await hashDirectory(process.argv[2]);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(JSON.stringify({ elapsedMs, sha256: digest.sha256, maxRssKiB: process.resourceUsage().maxRSS }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
