/**
 * CSV helpers that Polars does not offer: reading and checking the header
 * line before a lazy scan, and, when a scan fails, finding the line of the
 * file that broke it so the message can name it.
 *
 * The diagnosis walks the bytes once with the quoting rules of RFC 4180
 * (comma separator, `"` quotes, `""` an escaped quote). It only runs after
 * Polars has refused a file, so its cost never touches a good run.
 *
 * @module
 */
import { PortfolioReadError } from "./errors.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** A problem found in a CSV file, with its 1-based line. */
export interface CsvProblem {
  line: number;
  problem: string;
}

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

/** Reads the bytes of the first line (without its line break). */
function readFirstLine(path: string): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(64 * 1024);
    // A header is a few hundred bytes; stop at 1 MiB so a binary file with
    // no line break is not read whole.
    while (total < 1024 * 1024) {
      const n = file.readSync(buf);
      if (n === null || n === 0) break;
      const chunk = buf.slice(0, n);
      const nl = chunk.indexOf(LF);
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl));
        total += nl;
        break;
      }
      chunks.push(chunk);
      total += n;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out.at(-1) === CR ? out.subarray(0, out.length - 1) : out;
  } finally {
    file.close();
  }
}

/**
 * Reads and checks the header line of a CSV file: UTF-8 text, no empty and
 * no repeated column names. Returns the column names.
 *
 * @throws {PortfolioReadError} naming the file and line 1
 */
export function readCsvHeader(path: string): string[] {
  const bytes = readFirstLine(path);
  if (bytes.length === 0) {
    throw new PortfolioReadError(
      path,
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
      path,
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
      path,
      `the header is not usable: ${problems.join("; ")}`,
      1,
    );
  }
  return names;
}

/** The 1-based line of the first line that is not valid UTF-8, if any. */
function firstNonUtf8Line(bytes: Uint8Array): number | undefined {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let start = 0;
    for (let line = 1; start <= bytes.length; line++) {
      let end = bytes.indexOf(LF, start);
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
 */
export function diagnoseCsv(bytes: Uint8Array): CsvProblem | undefined {
  const found: CsvProblem[] = [];
  const badText = firstNonUtf8Line(bytes);
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
      } else if (b === LF) line++;
      continue;
    }
    if (b === QUOTE) inQuotes = true;
    else if (b === COMMA) fields++;
    else if (b === LF) {
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
