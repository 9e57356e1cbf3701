import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Cached digest of one file, valid while its size, mtime and inode are unchanged. */
interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

const CACHE_VERSION = 1;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Streams one file through SHA-256 with large reads (memory stays flat whatever the size). */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file, { highWaterMark: READ_CHUNK_BYTES })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Relative paths (forward slashes) of every file under dir, sorted so the digest never depends on readdir order. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  walk("");
  return files.sort();
}

export interface HashOptions {
  /** JSON file that remembers per-file digests keyed on (path, size, mtime, inode); omit to always read every byte. */
  cacheFile?: string;
}

export interface ContextDigest {
  sha256: string;
  files: number;
  bytes: number;
  /** Files whose bytes were read this time (0 when the cache covered everything). */
  filesRead: number;
}

/**
 * SHA-256 over the sorted relative paths and contents of every file in dir. Never includes mtimes,
 * so the same bytes give the same digest on any machine. With a cache, an unchanged file is not
 * re-read; any change of size, mtime or inode falls back to reading its content.
 */
export async function hashDirectory(dir: string, options: HashOptions = {}): Promise<ContextDigest> {
  const cache = options.cacheFile ? readCache(options.cacheFile) : {};
  const nextCache: Record<string, CacheEntry> = {};
  const digest = crypto.createHash("sha256");
  let bytes = 0;
  let filesRead = 0;
  const files = listFiles(dir);
  for (const relative of files) {
    const stat = fs.statSync(path.join(dir, relative));
    const cached = cache[relative];
    let fileSha: string;
    if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs && cached.ino === stat.ino) {
      fileSha = cached.sha256;
    } else {
      fileSha = await hashFile(path.join(dir, relative));
      filesRead++;
    }
    nextCache[relative] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256: fileSha };
    bytes += stat.size;
    digest.update(`${relative}\0${fileSha}\n`);
  }
  if (options.cacheFile) writeCache(options.cacheFile, nextCache);
  return { sha256: digest.digest("hex"), files: files.length, bytes, filesRead };
}

function readCache(file: string): Record<string, CacheEntry> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    return parsed.version === CACHE_VERSION && parsed.entries ? parsed.entries : {};
  } catch {
    return {};
  }
}

function writeCache(file: string, entries: Record<string, CacheEntry>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ version: CACHE_VERSION, entries }));
}
