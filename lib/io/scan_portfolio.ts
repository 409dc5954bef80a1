/**
 * Opening a portfolio file as a lazy frame: CSV, Parquet or Arrow IPC
 * (file or stream format), whichever the file holds.
 *
 * The format is read from the file's first bytes (Parquet starts with
 * `PAR1`, an Arrow IPC file with `ARROW1`, an IPC stream with `0xFFFFFFFF`),
 * so a misnamed file still opens; an extension that promises a binary format
 * the bytes do not have is refused. Everything else is read as CSV with
 * every column as text, so that one bad value rejects its row in validation
 * rather than failing the file (methodology §1).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pl from "nodejs-polars";
import type { LazyFrame } from "../frame.ts";
import { diagnoseCsv, readCsvHeader } from "./_csv.ts";
import { PortfolioReadError } from "./errors.ts";

/** The physical formats a portfolio can come in. */
export type PortfolioFormat = "csv" | "parquet" | "ipc" | "ipc-stream";

const BINARY_EXTENSIONS: Record<string, PortfolioFormat> = {
  parquet: "parquet",
  pq: "parquet",
  arrow: "ipc",
  ipc: "ipc",
  feather: "ipc",
  arrows: "ipc-stream",
};

const startsWith = (bytes: Uint8Array, magic: number[]) =>
  magic.every((b, i) => bytes[i] === b);

/** Reads up to `n` leading bytes; throws a read error for a missing file. */
function leadingBytes(path: string, n: number): Uint8Array {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
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
  try {
    if (file.statSync().isDirectory) {
      throw new PortfolioReadError(path, "this is a directory, not a file");
    }
    const buf = new Uint8Array(n);
    const got = file.readSync(buf) ?? 0;
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/**
 * The format a portfolio file holds, from its first bytes and, for text, its
 * extension.
 *
 * @throws {PortfolioReadError} when the file is missing, empty, or its
 *   extension names a binary format its bytes do not have
 */
export function detectPortfolioFormat(path: string): PortfolioFormat {
  const head = leadingBytes(path, 8);
  if (head.length === 0) {
    throw new PortfolioReadError(path, "the file is empty");
  }
  if (startsWith(head, [0x50, 0x41, 0x52, 0x31])) return "parquet";
  if (startsWith(head, [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31])) return "ipc";
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff])) return "ipc-stream";
  const ext = path.toLowerCase().split(".").pop() ?? "";
  const promised = BINARY_EXTENSIONS[ext];
  if (promised) {
    throw new PortfolioReadError(
      path,
      `the name says ${
        promised === "parquet" ? "Parquet" : "Arrow IPC"
      } but the file does not start with that format's magic bytes (truncated or not ${
        promised === "parquet" ? "Parquet" : "Arrow IPC"
      }?)`,
    );
  }
  return "csv";
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
  const polarsMessage = String((cause as Error)?.message ?? cause)
    .split("\n")[0].trim();
  let format: PortfolioFormat | undefined;
  try {
    format = detectPortfolioFormat(path);
  } catch {
    // `path` may only name an in-memory frame (a notebook's); then the
    // Polars message is all there is to report.
    format = undefined;
  }
  if (format === "csv") {
    let found;
    try {
      found = diagnoseCsv(Deno.readFileSync(path));
    } catch {
      found = undefined;
    }
    if (found) {
      return new PortfolioReadError(path, found.problem, found.line, { cause });
    }
  }
  const what = format === undefined || format === "csv"
    ? "the file cannot be parsed"
    : `the file cannot be parsed as ${
      format === "parquet" ? "Parquet" : "Arrow IPC"
    }`;
  return new PortfolioReadError(path, `${what} (${polarsMessage})`, undefined, {
    cause,
  });
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
 * @throws {PortfolioReadError} naming the file and, where known, the line
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanPortfolio } from "./scan_portfolio.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/p.csv`, "loan_id,balance\nL1,100\n");
 * // Read as text: validation parses every value and names what it rejects.
 * const df = await scanPortfolio(`${dir}/p.csv`).collect();
 * assert.deepEqual(df.getColumn("balance").toArray(), ["100"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function scanPortfolio(path: string): LazyFrame {
  const format = detectPortfolioFormat(path);
  if (format === "csv") readCsvHeader(path);
  try {
    let lf: LazyFrame;
    switch (format) {
      case "csv":
        // inferSchemaLength 0: every column is read as text; typing is
        // validation's job, so a bad cell cannot fail the whole file.
        lf = pl.scanCSV(path, { inferSchemaLength: 0, hasHeader: true });
        break;
      case "parquet":
        lf = pl.scanParquet(path);
        break;
      case "ipc":
        lf = pl.scanIPC(path);
        break;
      case "ipc-stream":
        // Polars has no lazy reader for the stream format, and its eager
        // reader misreads a path given as a string: hand it the bytes.
        lf = pl.readIPCStream(Buffer.from(Deno.readFileSync(path))).lazy();
        break;
    }
    // Resolving the columns reads the header or the file's schema, so a file
    // that is not a table fails here rather than inside a later step.
    void lf.columns;
    return lf;
  } catch (e) {
    throw portfolioReadError(path, e);
  }
}
