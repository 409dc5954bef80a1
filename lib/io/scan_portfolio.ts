/**
 * Opening a portfolio file as a lazy frame: CSV, Parquet or Arrow IPC
 * (file or stream format), whichever the file holds.
 *
 * The format is read from the file's first bytes (Parquet starts with
 * `PAR1`, an Arrow IPC file with `ARROW1`, an IPC stream with `0xFFFFFFFF`),
 * so a misnamed file still opens; an extension that promises a binary format
 * the bytes do not have is refused. Everything else is read as CSV with
 * every column as text, so that one bad value rejects its row in validation
 * rather than failing the file (methodology §1). CSV records may end with
 * LF, CRLF or CR alone (`_csv.ts`).
 *
 * Untrusted input: only a regular file is read, unless the caller asks for
 * a stream ({@link ScanPortfolioOptions.stream}); `maxBytes` and `maxRows`
 * bound what is read (`--max-bytes` and `--max-rows` of `deno task run` and
 * `deno task validate`). A portfolio column of a nested type (a Parquet
 * `List` or `Struct`) is refused here, naming the column, its type and the
 * type expected, since no row of it could hold one value.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pl from "nodejs-polars";
import type { DataType, LazyFrame } from "../frame.ts";
import { type ColumnKind, PORTFOLIO_COLUMNS } from "../schema.ts";
import { UserError } from "../errors.ts";
import {
  checkCrOnly,
  checkCsvHeader,
  diagnoseCsv,
  eolByte,
  lineEndingOf,
  readCsvHeader,
} from "./_csv.ts";
import { bytesText, inspectPath, readBounded } from "./_input.ts";
import { PortfolioReadError } from "./errors.ts";

/** The physical formats a portfolio can come in. */
export type PortfolioFormat = "csv" | "parquet" | "ipc" | "ipc-stream";

/**
 * How {@link scanPortfolio} reads a file it should not trust. Without any,
 * it reads a regular file of any size.
 */
export interface ScanPortfolioOptions {
  /**
   * Read a character or block device or a pipe (FIFO, `/dev/stdin` under a
   * shell pipe) on purpose, as a stream: its bytes are read to the end into
   * memory now (a stream cannot be read twice), then parsed. Without it such
   * a path is refused, since `/dev/zero` has no end. Give `maxBytes` with
   * it. A directory or a socket is refused either way; a regular file is
   * read as usual. The tasks do not read streams (a run hashes its input
   * file again at the end): copy the data to a file.
   * @default false
   */
  stream?: boolean;
  /**
   * The most bytes the file may hold; a larger one is refused before any
   * of it is parsed (a stream, as soon as it has sent more). A whole number
   * `>= 1`. `--max-bytes` of the tasks.
   * @default no limit
   */
  maxBytes?: number;
  /**
   * The most data rows (records after the header) the file may hold; a
   * file with more is refused now, after counting at most `maxRows + 1`
   * rows (Polars stops there: tens of milliseconds per million CSV rows). A
   * whole number `>= 1`. `--max-rows` of the tasks.
   * @default no limit
   */
  maxRows?: number;
}

const BINARY_EXTENSIONS: Record<string, PortfolioFormat> = {
  parquet: "parquet",
  pq: "parquet",
  arrow: "ipc",
  ipc: "ipc",
  feather: "ipc",
  arrows: "ipc-stream",
};

const FORMAT_NAME: Record<PortfolioFormat, string> = {
  csv: "CSV",
  parquet: "Parquet",
  ipc: "Arrow IPC",
  "ipc-stream": "Arrow IPC",
};

const startsWith = (bytes: Uint8Array, magic: number[]) =>
  magic.every((b, i) => bytes[i] === b);

/**
 * What `path` is, refusing what cannot be read as a portfolio: a missing
 * path, a directory, a socket, and a device or a pipe unless `stream`.
 */
function inputOf(path: string, stream: boolean) {
  let found;
  try {
    found = inspectPath(path);
  } catch (e) {
    throw new PortfolioReadError(
      path,
      e instanceof Deno.errors.NotFound
        ? "no such file"
        : `the file cannot be opened (${(e as Error).message})`,
      undefined,
      { cause: e },
    );
  }
  if (found.kind === "refused" || (found.kind === "stream" && !stream)) {
    throw new PortfolioReadError(
      path,
      `it is ${found.what}, not a file${
        found.kind === "stream"
          ? " (a device or a pipe has no end known in advance: copy the data to a file, or read it on purpose with scanPortfolio(path, { stream: true, maxBytes }))"
          : ""
      }`,
    );
  }
  return found;
}

/** Reads up to `n` leading bytes of a regular file. */
function leadingBytes(path: string, n: number): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    const got = file.readSync(buf) ?? 0;
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/** The format of a file from its leading bytes and its name. */
function formatOf(path: string, head: Uint8Array): PortfolioFormat {
  if (head.length === 0) {
    throw new PortfolioReadError(path, "the file is empty");
  }
  if (startsWith(head, [0x50, 0x41, 0x52, 0x31])) return "parquet";
  if (startsWith(head, [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31])) return "ipc";
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff])) return "ipc-stream";
  const ext = path.toLowerCase().split(".").pop() ?? "";
  const promised = BINARY_EXTENSIONS[ext];
  if (promised) {
    const name = FORMAT_NAME[promised];
    throw new PortfolioReadError(
      path,
      `the name says ${name} but the file does not start with that format's magic bytes (truncated or not ${name}?)`,
    );
  }
  return "csv";
}

/**
 * The format a portfolio file holds, from its first bytes and, for text, its
 * extension.
 *
 * @throws {PortfolioReadError} when the file is missing, empty, not a
 *   regular file (a directory, a device, a pipe), or its extension names a
 *   binary format its bytes do not have
 */
export function detectPortfolioFormat(path: string): PortfolioFormat {
  inputOf(path, false);
  return formatOf(path, leadingBytes(path, 8));
}

/**
 * The read error of `path` for a failure of Polars, diagnosing a CSV's
 * `bytes` (read from `path` when not given) to name the line.
 */
function readError(
  path: string,
  format: PortfolioFormat | undefined,
  cause: unknown,
  bytes?: Uint8Array,
): PortfolioReadError {
  if (cause instanceof PortfolioReadError) return cause;
  const polarsMessage = String((cause as Error)?.message ?? cause)
    .split("\n")[0].trim();
  if (format === "csv") {
    let found;
    try {
      const all = bytes ?? Deno.readFileSync(path);
      found = diagnoseCsv(all, lineEndingOf(all));
    } catch {
      found = undefined;
    }
    if (found) {
      return new PortfolioReadError(path, found.problem, found.line, { cause });
    }
  }
  const what = format === undefined || format === "csv"
    ? "the file cannot be parsed"
    : `the file cannot be parsed as ${FORMAT_NAME[format]}`;
  return new PortfolioReadError(path, `${what} (${polarsMessage})`, undefined, {
    cause,
  });
}

/**
 * Turns an error Polars raised while reading `path` into a
 * {@link PortfolioReadError}. For CSV it re-reads the file to find the line
 * that broke the parser; this runs only on the failure path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { portfolioReadError, scanPortfolio } from "./scan_portfolio.ts";
 * // A CSV whose third line has a text where Polars inferred numbers.
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/p.csv`;
 * Deno.writeTextFileSync(path, "loan_id,balance\nL1,100\nL2,1,2,3\n");
 * try {
 *   await assert.rejects(
 *     async () => {
 *       try {
 *         await scanPortfolio(path).collect();
 *       } catch (e) {
 *         throw portfolioReadError(path, e);
 *       }
 *     },
 *     (e: Error) => e.message.startsWith(`Cannot read portfolio ${path}`),
 *   );
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export function portfolioReadError(
  path: string,
  cause: unknown,
): PortfolioReadError {
  if (cause instanceof PortfolioReadError) return cause;
  let format: PortfolioFormat | undefined;
  try {
    format = detectPortfolioFormat(path);
  } catch {
    // `path` may only name an in-memory frame (a notebook's) or a stream
    // already read; then the Polars message is all there is to report.
    format = undefined;
  }
  return readError(path, format, cause);
}

/** A limit option: a whole number >= 1, or not given. */
function checkLimit(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1) {
    throw new UserError(
      "usage",
      `scanPortfolio(): ${name} must be a whole number >= 1, got ${value}`,
    );
  }
}

/** The refusal of a file above `maxBytes`. */
function tooLarge(path: string, maxBytes: number, size?: number) {
  return new PortfolioReadError(
    path,
    `${
      size === undefined
        ? "it sends more than"
        : `it holds ${bytesText(size)}, more than`
    } the limit of ${
      bytesText(maxBytes)
    } set for untrusted input (maxBytes, --max-bytes): raise --max-bytes if the file is expected to be this large`,
  );
}

/** A lazy scan of a regular file in `format`. */
function scanFile(path: string, format: PortfolioFormat): LazyFrame {
  let eolChar = "\n";
  if (format === "csv") {
    eolChar = String.fromCharCode(eolByte(readCsvHeader(path).lineEnding));
  }
  switch (format) {
    case "csv":
      // inferSchemaLength 0: every column is read as text; typing is
      // validation's job, so a bad cell cannot fail the whole file.
      return pl.scanCSV(path, {
        inferSchemaLength: 0,
        hasHeader: true,
        eolChar,
      });
    case "parquet":
      return pl.scanParquet(path);
    case "ipc":
      return pl.scanIPC(path);
    case "ipc-stream":
      // Polars has no lazy reader for the stream format, and its eager
      // reader misreads a path given as a string: hand it the bytes.
      return pl.readIPCStream(Buffer.from(Deno.readFileSync(path))).lazy();
  }
}

/** A frame of a stream's bytes, already read, in `format`. */
function frameOfBytes(
  path: string,
  bytes: Uint8Array,
  format: PortfolioFormat,
): LazyFrame {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (format) {
    case "csv": {
      const { lineEnding } = checkCsvHeader(bytes, path);
      if (lineEnding === "cr") checkCrOnly([bytes], path);
      return pl.readCSV(buffer, {
        inferSchemaLength: 0,
        hasHeader: true,
        eolChar: String.fromCharCode(eolByte(lineEnding)),
      }).lazy();
    }
    case "parquet":
      return pl.readParquet(buffer).lazy();
    case "ipc":
      return pl.readIPC(buffer).lazy();
    case "ipc-stream":
      return pl.readIPCStream(buffer).lazy();
  }
}

const NESTED = new Set(["List", "FixedSizeList", "Array", "Struct", "Object"]);

/** What a column of each kind may hold in a typed file. */
const EXPECTED: Record<ColumnKind, string> = {
  string: "text (String)",
  float: "a number (Float64 or another numeric type) or text",
  int: "a whole number (Int32 or another integer type) or text",
  date: "a date (Date or Datetime) or text YYYY-MM-DD",
  bool: "a boolean (Bool), 0/1 or text true/false",
};

/** A Polars type as a reader writes it: `List(Float64)`, `Struct(x: Int64)`. */
function typeText(dtype: DataType): string {
  const inner = (dtype as unknown as { inner?: unknown[] }).inner;
  switch (dtype.variant) {
    case "List":
      return `List(${typeText(inner?.[0] as DataType)})`;
    case "FixedSizeList":
      return `Array(${typeText(inner?.[0] as DataType)}, ${inner?.[1]})`;
    case "Struct":
      return `Struct(${
        (inner as { name: string; dtype: DataType }[] | undefined ?? [])
          .map((f) => `${f.name}: ${typeText(f.dtype)}`).join(", ")
      })`;
    case "Utf8":
      return "String";
    default:
      return String(dtype.variant);
  }
}

/**
 * Refuses a portfolio column (methodology §1) of a nested type: one value
 * per row is what every rule reads, and a `List` or `Struct` column cannot
 * be cast to one (Polars failed without naming the column).
 */
function checkColumnTypes(path: string, schema: Record<string, DataType>) {
  const problems = PORTFOLIO_COLUMNS.flatMap(({ name, kind }) => {
    const dtype = schema[name];
    return dtype !== undefined && NESTED.has(dtype.variant)
      ? [
        `column ${name} has type ${typeText(dtype)}; expected ${
          EXPECTED[kind]
        }`,
      ]
      : [];
  });
  if (problems.length > 0) {
    throw new PortfolioReadError(
      path,
      `${
        problems.join("; ")
      } (a portfolio column holds one value per row: write the file with that column flattened)`,
    );
  }
}

/**
 * Opens a portfolio file as a lazy frame, without reading its rows.
 *
 * CSV columns all arrive as text (`Utf8`), empty fields as null;
 * `validatePortfolio` parses and checks them. Parquet and IPC columns keep
 * their stored types. The header (CSV) or schema (binary formats) is read
 * now, so a file that cannot be a table at all fails here, not later.
 *
 * @param path a local file path
 * @param options what to accept from an untrusted input: a stream, a size
 *   and a row limit ({@link ScanPortfolioOptions})
 * @throws {PortfolioReadError} naming the file and, where known, the line:
 *   also for a path that is not a regular file (unless `stream`), a file
 *   above `maxBytes` or `maxRows`, and a nested column type
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanPortfolio } from "./scan_portfolio.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/p.csv`, "loan_id,balance\nL1,100\nL2,5\n");
 * // Read as text: validation parses every value and names what it rejects.
 * const df = await scanPortfolio(`${dir}/p.csv`).collect();
 * assert.deepEqual(df.getColumn("balance").toArray(), ["100", "5"]);
 * // A limit for untrusted input.
 * assert.throws(
 *   () => scanPortfolio(`${dir}/p.csv`, { maxRows: 1 }),
 *   /has more than 1 row, the limit set for untrusted input \(maxRows, --max-rows\)/,
 * );
 * // Not a file: refused, unless read as a stream on purpose.
 * assert.throws(
 *   () => scanPortfolio("/dev/zero"),
 *   /^PortfolioReadError: Cannot read portfolio \/dev\/zero: it is a character device, not a file/,
 * );
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function scanPortfolio(
  path: string,
  options: ScanPortfolioOptions = {},
): LazyFrame {
  const { stream = false, maxBytes, maxRows } = options;
  checkLimit("maxBytes", maxBytes);
  checkLimit("maxRows", maxRows);
  const input = inputOf(path, stream);
  let format: PortfolioFormat | undefined;
  let bytes: Uint8Array | undefined;
  try {
    let lf: LazyFrame;
    if (input.kind === "file") {
      if (maxBytes !== undefined && input.size > maxBytes) {
        throw tooLarge(path, maxBytes, input.size);
      }
      format = formatOf(path, leadingBytes(path, 8));
      lf = scanFile(path, format);
    } else {
      bytes = readBounded(path, maxBytes ?? Infinity);
      if (bytes === undefined) throw tooLarge(path, maxBytes!);
      format = formatOf(path, bytes.subarray(0, 8));
      lf = frameOfBytes(path, bytes, format);
    }
    // Resolving the schema reads the header or the file's metadata, so a
    // file that is not a table fails here rather than inside a later step.
    const schema = lf.head(0).collectSync().schema as Record<string, DataType>;
    if (format !== "csv") checkColumnTypes(path, schema);
    if (maxRows !== undefined) {
      const rows = lf.head(maxRows + 1).select(pl.len().alias("n"))
        .collectSync().getColumn("n").get(0) as number;
      if (rows > maxRows) {
        throw new PortfolioReadError(
          path,
          `it has more than ${maxRows.toLocaleString("en-US")} row${
            maxRows === 1 ? "" : "s"
          }, the limit set for untrusted input (maxRows, --max-rows): raise --max-rows if the file is expected to be this large`,
        );
      }
    }
    return lf;
  } catch (e) {
    throw readError(path, format, e, bytes);
  }
}
