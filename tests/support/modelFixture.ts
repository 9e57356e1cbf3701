import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A TFX Pusher-shaped model folder in a temp dir: numeric versions with saved_model.pb and variables/. */
export function makeModelDir(versions: string[] = ["1763528202"], extra: (root: string) => void = () => undefined): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-model-"));
  for (const version of versions) {
    fs.mkdirSync(path.join(root, version, "variables"), { recursive: true });
    fs.writeFileSync(path.join(root, version, "saved_model.pb"), `saved model ${version}`);
    fs.writeFileSync(path.join(root, version, "variables", "variables.index"), `index ${version}`);
    fs.writeFileSync(path.join(root, version, "variables", "variables.data-00000-of-00001"), Buffer.alloc(4096, 7));
  }
  extra(root);
  return root;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
