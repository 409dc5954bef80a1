/**
 * CSV helpers that Polars does not offer: reading and checking the header
 * line before a lazy scan, telling which line ending the file uses, and,
 * when a scan fails, finding the line of the file that broke it so the
 * message can name it.
 *
 * Line endings: LF (Unix) and CRLF (Windows) are read as they are. CR alone
 * (classic Mac OS, and some exports from old spreadsheet software) is read
 * too, by telling Polars that CR ends a record ({@link CsvHeader}
 * `lineEnding: "cr"`), but only when the whole file keeps to it: a file
 * whose header ends with CR alone and that holds an LF outside a quoted
 * field mixes two conventions, and reading it either way would glue the LF
 * to the next record's first field, so it is refused with one message
 * naming the line ({@link checkCrOnly}).
 *
 * The diagnosis walks the bytes once with the quoting rules of RFC 4180
 * (comma separator, `"` quotes, `""` an escaped quote). It only runs after
 * Polars has refused a file, so its cost never touches a good run.
 *
 * @module
 */
import { formatCount, messageList } from "../format.ts";
import { PortfolioReadError } from "./errors.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Most bytes read looking for the end of the header line: a header is a
 * few hundred bytes, so a file with no line break in its first MiB is not a
 * CSV portfolio (a binary file, or one record of a file with no line
 * breaks), and is not read whole to find out.
 */
export const MAX_HEADER_BYTES = 1024 * 1024;

/** A problem found in a CSV file, with its 1-based line. */
export interface CsvProblem {
  line: number;
  problem: string;
}

/**
 * How the records of a CSV file end: `lf` (Unix), `crlf` (Windows) or `cr`
 * alone (classic Mac OS).
 */
export type LineEnding = "lf" | "crlf" | "cr";

/** What the header line of a CSV file says. */
export interface CsvHeader {
  /** The column names, in the file's order. */
  names: string[];
  /** How the header line ends, and so every record of the file. */
  lineEnding: LineEnding;
}

/** The byte that ends a record under `ending`. */
export const eolByte = (ending: LineEnding): number =>
  ending === "cr" ? CR : LF;

/** Splits one header line into field names, honouring `"` quoting. */
export function splitCsvLine(text: string): string[] {
  const fields: string[] = [];
  let field = "";
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') inQuotes = false;
      else field += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** The index of the first CR or LF in `bytes`, or -1. */
function firstBreak(bytes: Uint8Array): number {
  const lf = bytes.indexOf(LF);
  const cr = bytes.indexOf(CR);
  return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
}

/**
 * The line ending of a CSV file, from how its first line ends: LF, CR LF,
 * or CR alone; `lf` when its leading bytes hold no line break.
 *
 * @param head the file's first bytes, at least up to one byte after the
 *   header's line break when the file has one
 */
export function lineEndingOf(head: Uint8Array): LineEnding {
  const at = firstBreak(head.subarray(0, MAX_HEADER_BYTES));
  return at < 0 || head[at] === LF ? "lf" : head[at + 1] === LF ? "crlf" : "cr";
}

/**
 * Reads the leading bytes of a file: up to {@link MAX_HEADER_BYTES}, and
 * stopping one byte after the first line break (that byte tells CRLF from
 * CR alone).
 */
export function readHead(path: string): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(64 * 1024);
    let breakAt = -1;
    while (total < MAX_HEADER_BYTES) {
      const n = file.readSync(buf);
      if (n === null || n === 0) break;
      const chunk = buf.slice(0, n);
      chunks.push(chunk);
      if (breakAt < 0) {
        const at = firstBreak(chunk);
        if (at >= 0) breakAt = total + at;
      }
      total += n;
      if (breakAt >= 0 && total > breakAt + 1) break;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    file.close();
  }
}

/**
 * Checks the header line at the start of `head` (the file's leading bytes,
 * or all of them): UTF-8 text, no empty and no repeated column names.
 * Returns the column names and the file's line ending.
 *
 * @param head the file's first bytes, at least up to one byte after the
 *   header's line break when the file has one
 * @param file the path, for the message
 * @throws {PortfolioReadError} naming the file and line 1
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCsvHeader } from "./_csv.ts";
 * const bytes = new TextEncoder().encode("loan_id,balance\rL1,100\r");
 * assert.deepEqual(checkCsvHeader(bytes, "old_mac.csv"), {
 *   names: ["loan_id", "balance"],
 *   lineEnding: "cr",
 * });
 * ```
 */
export function checkCsvHeader(head: Uint8Array, file: string): CsvHeader {
  const at = firstBreak(head.subarray(0, MAX_HEADER_BYTES));
  if (at < 0 && head.length >= MAX_HEADER_BYTES) {
    throw new PortfolioReadError(
      file,
      `no line break in the first ${
        formatCount(MAX_HEADER_BYTES)
      } bytes: a portfolio's header is a few kilobytes (MAX_HEADER_BYTES), so this is not a CSV with one record per line`,
      1,
    );
  }
  const lineEnding = lineEndingOf(head);
  const bytes = head.subarray(0, at < 0 ? MAX_HEADER_BYTES : at);
  if (bytes.length === 0) {
    throw new PortfolioReadError(
      file,
      "the header is empty (a CSV portfolio starts with a line of column names)",
      1,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      bytes,
    );
  } catch {
    throw new PortfolioReadError(
      file,
      "the header is not UTF-8 text (is this a binary file, or a CSV in another encoding?)",
      1,
    );
  }
  const names = splitCsvLine(text);
  const seen = new Set<string>();
  const problems: string[] = [];
  names.forEach((name, i) => {
    if (name.trim() === "") problems.push(`column ${i + 1} has no name`);
    else if (seen.has(name)) problems.push(`column ${name} appears twice`);
    seen.add(name);
  });
  if (problems.length > 0) {
    throw new PortfolioReadError(
      file,
      `the header is not usable: ${messageList(problems, 5, "; ")}`,
      1,
    );
  }
  return { names, lineEnding };
}

/**
 * Reads and checks the header line of a CSV file; see
 * {@link checkCsvHeader}. For a file whose header ends with CR alone, also
 * checks that the whole file does ({@link checkCrOnly}).
 *
 * @throws {PortfolioReadError} naming the file and the line
 */
export function readCsvHeader(path: string): CsvHeader {
  const header = checkCsvHeader(readHead(path), path);
  if (header.lineEnding === "cr") checkCrOnly(chunksOf(path), path);
  checkLastRecord(path, header);
  return header;
}

/** Bytes read from the end of a CSV file to find its last record. */
const TAIL_BYTES = 64 * 1024;

/**
 * Refuses a CSV file whose last record has fewer fields than the header:
 * the file was cut short (an interrupted copy or export). The CSV reader
 * would fill the missing cells with nulls and the last facility would be
 * computed from half its data; a record with too many fields fails the
 * reader already. Reads only the file's last 64 KiB. A last line holding
 * an odd number of `"` may be the end of a quoted line break, so it is not
 * judged.
 *
 * @throws {PortfolioReadError} naming the file and both field counts
 */
export function checkLastRecord(path: string, header: CsvHeader): void {
  const file = Deno.openSync(path, { read: true });
  let tail: Uint8Array;
  try {
    const size = file.statSync().size;
    const start = Math.max(0, size - TAIL_BYTES);
    file.seekSync(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - start);
    let at = 0;
    while (at < buf.length) {
      const n = file.readSync(buf.subarray(at));
      if (n === null || n === 0) break;
      at += n;
    }
    tail = buf.subarray(0, at);
  } finally {
    file.close();
  }
  const eol = eolByte(header.lineEnding);
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === LF || tail[end - 1] === CR)) end--;
  const lastBreak = tail.subarray(0, end).lastIndexOf(eol);
  // One line only (the header), or a last line longer than the tail.
  if (lastBreak < 0) return;
  // An odd number of quotes in the tail or the last line: a quoted field
  // spans lines (or never closes, which the reader reports with its line).
  const quotes = (t: Uint8Array) =>
    t.reduce((n, b) => n + (b === QUOTE ? 1 : 0), 0);
  if (quotes(tail) % 2 === 1) return;
  const text = new TextDecoder().decode(tail.subarray(lastBreak + 1, end));
  if ((text.match(/"/g)?.length ?? 0) % 2 === 1) return;
  const fields = splitCsvLine(text).length;
  if (fields < header.names.length) {
    throw new PortfolioReadError(
      path,
      `its last line has ${fields} fields but the header has ${header.names.length}: the file looks cut short (an interrupted copy or export); get the whole file again`,
    );
  }
}

/** The bytes of a file, a MiB at a time. */
function* chunksOf(path: string): Generator<Uint8Array> {
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(1024 * 1024);
    for (;;) {
      const n = file.readSync(buf);
      if (n === null || n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    file.close();
  }
}

/**
 * Refuses a file whose header ends with CR alone but which holds an LF
 * outside a quoted field: its records would not split one way or the
 * other. An LF inside a quoted field is data and is kept. Costs one pass
 * over the file, and runs only for files whose header ends with CR alone.
 *
 * @param chunks the file's bytes, in order
 * @param file the path, for the message
 * @throws {PortfolioReadError} naming the file and the line of the first LF
 */
export function checkCrOnly(chunks: Iterable<Uint8Array>, file: string): void {
  let inQuotes = false;
  let line = 1;
  let previous = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      const after = previous;
      previous = b;
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (inQuotes) continue;
      else if (b === CR) line++;
      else if (b === LF) {
        throw new PortfolioReadError(
          file,
          "the line endings are mixed: the header ends with CR alone (classic Mac OS) but this line ends with LF; save the file again with one kind of line ending (LF or CRLF), e.g. tr '\\r' '\\n' < in.csv > out.csv when no line ends with CRLF",
          // The LF of a CR LF pair ends the line its CR ended.
          after === CR ? line - 1 : line,
        );
      }
    }
  }
}

/** The 1-based line of the first line that is not valid UTF-8, if any. */
function firstNonUtf8Line(bytes: Uint8Array, eol: number): number | undefined {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let start = 0;
    for (let line = 1; start <= bytes.length; line++) {
      let end = bytes.indexOf(eol, start);
      if (end < 0) end = bytes.length;
      try {
        decoder.decode(bytes.subarray(start, end));
      } catch {
        return line;
      }
      start = end + 1;
    }
    return undefined;
  }
}

/**
 * Finds the first line of a CSV file that a parser must refuse: bytes that
 * are not UTF-8, a record with more fields than the header, or a quoted
 * field that is never closed. Returns `undefined` when none is found.
 *
 * @param bytes the whole file
 * @param ending how its records end (CR alone counts lines by CR)
 */
export function diagnoseCsv(
  bytes: Uint8Array,
  ending: LineEnding = "lf",
): CsvProblem | undefined {
  const eol = eolByte(ending);
  const found: CsvProblem[] = [];
  const badText = firstNonUtf8Line(bytes, eol);
  if (badText !== undefined) {
    found.push({ line: badText, problem: "the bytes are not UTF-8 text" });
  }
  let line = 1;
  let recordLine = 1;
  let fields = 1;
  let headerFields = -1;
  let inQuotes = false;
  let ragged: CsvProblem | undefined;
  for (let i = 0; i < bytes.length && !ragged; i++) {
    const b = bytes[i];
    if (inQuotes) {
      if (b === QUOTE) {
        if (bytes[i + 1] === QUOTE) i++;
        else inQuotes = false;
      } else if (b === eol) line++;
      continue;
    }
    if (b === QUOTE) inQuotes = true;
    else if (b === COMMA) fields++;
    else if (b === eol) {
      if (headerFields < 0) headerFields = fields;
      else if (fields > headerFields) {
        ragged = {
          line: recordLine,
          problem:
            `the record has ${fields} fields but the header has ${headerFields}`,
        };
      }
      line++;
      recordLine = line;
      fields = 1;
    }
  }
  if (ragged) found.push(ragged);
  else if (inQuotes) {
    found.push({
      line: recordLine,
      problem: "a quoted field starts here and is never closed",
    });
  } else if (headerFields >= 0 && fields > headerFields) {
    found.push({
      line: recordLine,
      problem:
        `the record has ${fields} fields but the header has ${headerFields}`,
    });
  }
  found.sort((a, b) => a.line - b.line);
  return found[0];
}
