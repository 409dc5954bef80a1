/**
 * Pages and charts parsed as a browser would, with linkedom: what the
 * escaping tests ask of them is which elements exist and what text shows.
 *
 * @module
 */
import { parseHTML } from "linkedom";

/** The part of linkedom's DOM these tests read (Deno loads no DOM types). */
interface Element {
  readonly textContent: string | null;
}
interface Document {
  querySelectorAll(selector: string): ArrayLike<Element>;
}

/** A parsed page or fragment. */
export interface ParsedMarkup {
  /** How many elements match a CSS selector. */
  count(selector: string): number;
  /** The text content of the elements matching `selector`, in order. */
  texts(selector: string): string[];
}

/** Parses a whole page, or a fragment placed in a page's body. */
export function parseMarkup(html: string): ParsedMarkup {
  const page = /^\s*<!DOCTYPE/i.test(html)
    ? html
    : `<!DOCTYPE html><html><body>${html}</body></html>`;
  const { document } = parseHTML(page) as unknown as { document: Document };
  const all = (selector: string) =>
    Array.from(document.querySelectorAll(selector));
  return {
    count: (selector) => all(selector).length,
    texts: (selector) => all(selector).map((e) => e.textContent ?? ""),
  };
}
