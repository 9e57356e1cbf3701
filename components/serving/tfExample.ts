/**
 * Serialises a diabetes row as a `tf.train.Example` protobuf without TensorFlow, byte for byte as
 * TensorFlow would (fields in order, packed lists, map entries sorted by key so the output is deterministic).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const INT64_FEATURES = ["Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin", "Age"] as const;
export const FLOAT_FEATURES = ["BMI", "DiabetesPedigreeFunction"] as const;
export type DiabetesFeature = (typeof INT64_FEATURES)[number] | (typeof FLOAT_FEATURES)[number];
export type DiabetesRow = Record<DiabetesFeature, number>;

export const SAMPLE_ROWS_ASSET = path.join(__dirname, "..", "..", "assets", "diabetes-sample-rows.json");

const ALL_FEATURES: readonly string[] = [...INT64_FEATURES, ...FLOAT_FEATURES];
/** The largest finite float32; larger doubles round to Infinity when written as float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Checks a row from a user or a file: every feature present, ints whole, nothing unknown. */
export function parseDiabetesRow(value: unknown): DiabetesRow {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`a row must be a JSON object with the features ${ALL_FEATURES.join(", ")}`);
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of Object.keys(record)) {
    if (!ALL_FEATURES.includes(name)) problems.push(`unknown feature "${name}"`);
  }
  for (const name of ALL_FEATURES) {
    const feature = record[name];
    if (feature === undefined) problems.push(`${name} is missing`);
    else if (typeof feature !== "number") problems.push(`${name} must be a number (got ${JSON.stringify(feature)})`);
    // NaN and infinities would parse and reach the model, which answers NaN: refused here instead.
    else if (!Number.isFinite(feature)) problems.push(`${name} must be a finite number (got ${feature})`);
    else if ((INT64_FEATURES as readonly string[]).includes(name)) {
      if (!Number.isSafeInteger(feature)) problems.push(`${name} is an int64 feature and must be a whole number (got ${feature})`);
    } else if (!Number.isFinite(Math.fround(feature))) {
      // A float feature travels as float32; beyond its range TensorFlow would store Infinity.
      problems.push(`${name} is a float32 feature and must be within ±${FLOAT32_MAX} (got ${feature})`);
    }
  }
  if (problems.length > 0) throw new Error(`Invalid row: ${problems.join("; ")}. Expected features: ${ALL_FEATURES.join(", ")}`);
  return record as DiabetesRow;
}

/** The bundled sample rows (a few rows of the Pima diabetes data set, without the label). */
export function loadSampleRows(file = SAMPLE_ROWS_ASSET): DiabetesRow[] {
  const rows: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${file} must hold a non-empty JSON array of rows`);
  return rows.map(parseDiabetesRow);
}

/** Protobuf base-128 varint of an int64; negatives are their 64-bit two's complement, hence 10 bytes. */
export function encodeVarint(value: bigint): Buffer {
  let remaining = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (remaining >= 0x80n) {
    bytes.push(Number(remaining & 0x7fn) | 0x80);
    remaining >>= 7n;
  }
  bytes.push(Number(remaining));
  return Buffer.from(bytes);
}

/** Wire type 2 (length-delimited) field: tag, length, payload. */
function lengthDelimited(fieldNumber: number, payload: Buffer): Buffer {
  return Buffer.concat([encodeVarint(BigInt((fieldNumber << 3) | 2)), encodeVarint(BigInt(payload.length)), payload]);
}

/** `Feature { Int64List int64_list = 3 }` with its values packed. */
function int64Feature(values: number[]): Buffer {
  const packed = Buffer.concat(values.map((value) => encodeVarint(BigInt(value))));
  return lengthDelimited(3, lengthDelimited(1, packed));
}

/** `Feature { FloatList float_list = 2 }`, packed little-endian float32. */
function floatFeature(values: number[]): Buffer {
  const packed = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => packed.writeFloatLE(value, index * 4));
  return lengthDelimited(2, lengthDelimited(1, packed));
}

/** Serialized `tf.train.Example` for one row: `Example { Features features = 1 { map<string, Feature> feature = 1 } }`. */
export function encodeDiabetesExample(row: DiabetesRow): Buffer {
  const checked = parseDiabetesRow(row);
  const entries = [...ALL_FEATURES].sort().map((name) => {
    const value = checked[name as DiabetesFeature];
    const feature = (INT64_FEATURES as readonly string[]).includes(name) ? int64Feature([value]) : floatFeature([value]);
    return lengthDelimited(1, Buffer.concat([lengthDelimited(1, Buffer.from(name, "utf8")), lengthDelimited(2, feature)]));
  });
  return lengthDelimited(1, Buffer.concat(entries));
}
