/**
 * Proof against TensorFlow itself: pytest (model/tests) checks the bytes this project's TypeScript
 * encoder writes, and the committed SavedModel answering them. Runs inside `npm test`; a missing
 * Python or TensorFlow fails with the install command.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DiabetesRow, encodeDiabetesExample, loadSampleRows } from "../../components/serving/tfExample";
import { MODEL_DIR, requireTensorFlowPython } from "../support/python";

const FLOAT32_MAX = 3.4028234663852886e38;
const base = loadSampleRows()[0];

/** Values at the edges of the wire format: varint widths, two's complement, float32 rounding and range. */
const EDGE_ROWS: [string, Partial<DiabetesRow>][] = [
  ["all zeros", { Pregnancies: 0, Glucose: 0, BloodPressure: 0, SkinThickness: 0, Insulin: 0, BMI: 0, DiabetesPedigreeFunction: 0, Age: 0 }],
  ["negative int64 values", { Pregnancies: -1, Glucose: -148, Age: -50 }],
  ["int64 at plus and minus 2^53-1", { Glucose: Number.MAX_SAFE_INTEGER, Insulin: Number.MIN_SAFE_INTEGER }],
  ["multi-byte varints", { Glucose: 300, Age: 16384, Insulin: 2 ** 31 }],
  ["floats that round in float32", { BMI: 0.1, DiabetesPedigreeFunction: 1 / 3 }],
  ["a whole float above 2^24", { BMI: 16777217 }],
  ["the largest float32, both signs", { BMI: FLOAT32_MAX, DiabetesPedigreeFunction: -FLOAT32_MAX }],
  ["a double that rounds down to the largest float32", { BMI: 3.4028235e38 }],
  ["subnormal float32 values", { BMI: 1e-45, DiabetesPedigreeFunction: 1e-40 }],
  ["floats below float32's smallest, rounding to zero and minus zero", { BMI: 1e-50, DiabetesPedigreeFunction: -1e-46 }],
];

interface EncodedCase {
  name: string;
  kind: "sample" | "edge";
  row: DiabetesRow;
  base64: string;
}

function encodedCases(): EncodedCase[] {
  const encode = (name: string, kind: EncodedCase["kind"], row: DiabetesRow) => ({ name, kind, row, base64: encodeDiabetesExample(row).toString("base64") });
  return [
    ...loadSampleRows().map((row, index) => encode(`sample row ${index + 1}`, "sample", row)),
    ...EDGE_ROWS.map(([name, values]) => encode(name, "edge", { ...base, ...values })),
  ];
}

describe("the tf.Example client and the bundled model, checked by TensorFlow", () => {
  let workDir: string;
  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-proof-"));
  });
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it("passes every pytest proof in model/tests, none skipped", () => {
    const python = requireTensorFlowPython();
    const cases = encodedCases();
    // JSON carries the rows exactly: both sides read doubles with shortest round-trip formatting.
    for (const { row } of cases) expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    const casesFile = path.join(workDir, "ts-encoded-examples.json");
    fs.writeFileSync(casesFile, JSON.stringify(cases));

    const result = spawnSync(python, ["-m", "pytest", "-q", "--color=no"], {
      cwd: MODEL_DIR,
      encoding: "utf8",
      timeout: 600_000,
      env: { ...process.env, TS_ENCODED_EXAMPLES: casesFile, PYTHONDONTWRITEBYTECODE: "1", TF_CPP_MIN_LOG_LEVEL: "2" },
    });
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.error || result.status !== 0) throw new Error(`pytest failed (${result.error?.message ?? `exit ${result.status}`}):\n${output}`);

    const summary = result.stdout.trim().split("\n").pop() ?? "";
    expect(summary).toMatch(/^=* ?\d+ passed in /);
    expect(summary).not.toMatch(/skipped|xfail|xpass|deselected|error/);
    // Two TensorFlow checks per encoded row (bytes and parsed values) prove the cases reached pytest.
    expect(Number(/(\d+) passed/.exec(summary)![1])).toBeGreaterThan(2 * cases.length);
  }, 600_000);
});
