import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hashDirectory, hashFile } from "../../components/serving/contextHash";
import { removeDir } from "../support/modelFixture";

describe("context hashing", () => {
  let dir: string;
  let cacheFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-hash-"));
    fs.mkdirSync(path.join(dir, "model", "1"), { recursive: true });
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM x:1\n");
    fs.writeFileSync(path.join(dir, "model", "1", "saved_model.pb"), Buffer.alloc(100_000, 1));
    cacheFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-cache-")), "cache.json");
  });
  afterEach(() => {
    removeDir(dir);
    removeDir(path.dirname(cacheFile));
  });

  it("hashes a file like any SHA-256", async () => {
    const file = path.join(dir, "Dockerfile");
    expect(await hashFile(file)).toBe(crypto.createHash("sha256").update("FROM x:1\n").digest("hex"));
  });

  it("does not depend on mtimes or on where the folder is", async () => {
    const first = await hashDirectory(dir);
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-hash-copy-"));
    fs.cpSync(dir, copy, { recursive: true });
    fs.utimesSync(path.join(copy, "Dockerfile"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect((await hashDirectory(copy)).sha256).toBe(first.sha256);
    removeDir(copy);
  });

  it("changes when a byte, a file name or a file set changes", async () => {
    const base = (await hashDirectory(dir)).sha256;
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM x:2\n");
    const edited = (await hashDirectory(dir)).sha256;
    expect(edited).not.toBe(base);
    fs.renameSync(path.join(dir, "Dockerfile"), path.join(dir, "Dockerfile2"));
    expect((await hashDirectory(dir)).sha256).not.toBe(edited);
  });

  it("does not re-read unchanged files when the cache is warm", async () => {
    const cold = await hashDirectory(dir, { cacheFile });
    expect(cold.filesRead).toBe(2);
    const warm = await hashDirectory(dir, { cacheFile });
    expect(warm).toEqual({ ...cold, filesRead: 0 });
  });

  it("catches a changed byte with the same size and a restored mtime when the cache is cold", async () => {
    const file = path.join(dir, "model", "1", "saved_model.pb");
    const before = await hashDirectory(dir, { cacheFile });
    const { atime, mtime } = fs.statSync(file);
    const bytes = fs.readFileSync(file);
    bytes[500] ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, atime, mtime);
    fs.rmSync(cacheFile);
    expect((await hashDirectory(dir, { cacheFile })).sha256).not.toBe(before.sha256);
  });

  it("re-reads a file whose size or mtime changed even with a warm cache", async () => {
    const before = await hashDirectory(dir, { cacheFile });
    fs.appendFileSync(path.join(dir, "Dockerfile"), "ENV A=1\n");
    const after = await hashDirectory(dir, { cacheFile });
    expect(after.filesRead).toBe(1);
    expect(after.sha256).not.toBe(before.sha256);
  });
});
