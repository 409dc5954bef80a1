/**
 * Reading portfolio files: {@link scanPortfolio} opens CSV, Parquet or Arrow
 * IPC as a lazy frame, and every file-level failure is a
 * {@link PortfolioReadError} naming the file and, where known, the line.
 *
 * @module
 */
export { PortfolioReadError } from "./errors.ts";
export {
  detectPortfolioFormat,
  type PortfolioFormat,
  portfolioReadError,
  scanPortfolio,
} from "./scan_portfolio.ts";
