import * as path from "node:path";
import * as protobuf from "protobufjs";
import { DiabetesRow, FLOAT_FEATURES, INT64_FEATURES, encodeDiabetesExample, encodeVarint, loadSampleRows, parseDiabetesRow } from "../components/serving/tfExample";

const row: DiabetesRow = {
  Pregnancies: 6,
  Glucose: 148,
  BloodPressure: 72,
  SkinThickness: 35,
  Insulin: 0,
  BMI: 33.6,
  DiabetesPedigreeFunction: 0.627,
  Age: 50,
};

/** One map entry, built by hand from the wire format: entry{ key=1, value=2 Feature{ list=N { value=1 packed } } }. */
function entry(key: string, listField: number, packed: number[]): number[] {
  const list = [0x0a, packed.length, ...packed];
  const feature = [(listField << 3) | 2, list.length, ...list];
  const body = [0x0a, key.length, ...Buffer.from(key), 0x12, feature.length, ...feature];
  return [0x0a, body.length, ...body];
}

describe("tf.Example encoder", () => {
  it("encodes varints, negatives as ten bytes of two's complement", () => {
    expect([...encodeVarint(0n)]).toEqual([0x00]);
    expect([...encodeVarint(148n)]).toEqual([0x94, 0x01]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(-1n)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it("produces exactly the hand-computed bytes, features sorted by key", () => {
    // float32: 33.6 -> 0x42066666, 0.627 -> 0x3F208312 (nearest floats), written little-endian.
    const entries = [
      entry("Age", 3, [50]),
      entry("BMI", 2, [0x66, 0x66, 0x06, 0x42]),
      entry("BloodPressure", 3, [72]),
      entry("DiabetesPedigreeFunction", 2, [0x12, 0x83, 0x20, 0x3f]),
      entry("Glucose", 3, [0x94, 0x01]),
      entry("Insulin", 3, [0]),
      entry("Pregnancies", 3, [6]),
      entry("SkinThickness", 3, [35]),
    ].flat();
    const expected = [0x0a, ...encodeVarint(BigInt(entries.length)), ...entries];
    expect([...encodeDiabetesExample(row)]).toEqual(expected);
  });

  it("is deterministic whatever the key order of the row", () => {
    const reversed = Object.fromEntries(Object.entries(row).reverse()) as DiabetesRow;
    expect(encodeDiabetesExample(reversed).equals(encodeDiabetesExample(row))).toBe(true);
  });

  it("decodes back to the row with protobufjs and an independent .proto", async () => {
    const root = await protobuf.load(path.join(__dirname, "fixtures", "tf_example.proto"));
    const Example = root.lookupType("tensorflow.Example");
    const negative = { ...row, Pregnancies: -3 };
    const decoded = Example.toObject(Example.decode(encodeDiabetesExample(negative)), { longs: String }) as {
      features: { feature: Record<string, { int64List?: { value: string[] }; floatList?: { value: number[] } }> };
    };
    const feature = decoded.features.feature;
    expect(Object.keys(feature).sort()).toEqual([...INT64_FEATURES, ...FLOAT_FEATURES].sort());
    for (const name of INT64_FEATURES) expect(feature[name].int64List!.value).toEqual([String(negative[name])]);
    for (const name of FLOAT_FEATURES) expect(feature[name].floatList!.value).toEqual([Math.fround(negative[name])]);
  });

  it("rejects rows the model cannot take, naming the feature", () => {
    expect(() => parseDiabetesRow({ ...row, Glucose: 148.5 })).toThrow(/Glucose is an int64 feature and must be a whole number/);
    expect(() => parseDiabetesRow({ ...row, Outcome: 1 })).toThrow(/unknown feature "Outcome"/);
    const withoutAge: Partial<DiabetesRow> = { ...row };
    delete withoutAge.Age;
    expect(() => parseDiabetesRow(withoutAge)).toThrow(/Age is missing/);
    expect(() => parseDiabetesRow({ ...row, BMI: "33.6" })).toThrow(/BMI must be a number/);
  });

  it.each([
    ["BMI", Number.NaN, /BMI must be a finite number \(got NaN\)/],
    ["DiabetesPedigreeFunction", Number.POSITIVE_INFINITY, /DiabetesPedigreeFunction must be a finite number \(got Infinity\)/],
    ["Glucose", Number.NEGATIVE_INFINITY, /Glucose must be a finite number \(got -Infinity\)/],
    ["Age", Number.NaN, /Age must be a finite number/],
    // Finite as a double, but Infinity once written as float32.
    ["BMI", 1e39, /BMI is a float32 feature and must be within ±3\.4028234663852886e\+38 \(got 1e\+39\)/],
    ["BMI", -3.4028235677973366e38, /BMI is a float32 feature/],
  ] as [keyof DiabetesRow, number, RegExp][])("refuses %s = %p instead of sending what the model would answer NaN for", (name, value, reason) => {
    expect(() => encodeDiabetesExample({ ...row, [name]: value })).toThrow(reason);
  });

  it("takes the largest float32 and numbers that round to it", () => {
    for (const value of [3.4028234663852886e38, 3.4028235e38]) {
      expect(encodeDiabetesExample({ ...row, BMI: value }).includes(Buffer.from([0xff, 0xff, 0x7f, 0x7f]))).toBe(true);
    }
  });

  it("bundles sample rows that all encode", () => {
    const rows = loadSampleRows();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const sample of rows) expect(encodeDiabetesExample(sample).length).toBeGreaterThan(100);
  });
});
