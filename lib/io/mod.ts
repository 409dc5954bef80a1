/**
 * Reading portfolio files: {@link scanPortfolio} opens CSV, Parquet or Arrow
 * IPC as a lazy frame, and every file-level failure is a
 * {@link PortfolioReadError} naming the file and, where known, the line.
 * Only regular files are read unless a stream is asked for, and a size and a
 * row limit bound untrusted input ({@link ScanPortfolioOptions}).
 *
 * @module
 */
export { PortfolioReadError } from "./errors.ts";
export {
  detectPortfolioFormat,
  type PortfolioFormat,
  portfolioReadError,
  scanPortfolio,
  type ScanPortfolioOptions,
} from "./scan_portfolio.ts";
