/**
 * Active ISO 4217 alphabetic currency codes, for the `CURRENCY_INVALID`
 * rule (methodology §1: `currency` is an ISO 4217 code).
 *
 * The set is ISO 4217 list one (current currencies and funds) as published
 * by the maintenance agency in 2025, including the amendments of 2021-2025:
 * VED (Venezuela, 2021), SLE (Sierra Leone, 2022), ZWG (Zimbabwe, 2024) and
 * XCG (Curaçao and Sint Maarten, 2025) are in; withdrawn codes such as HRK,
 * SLL, ZWL, ANG, CUC, MRO, VEF and the pre-euro national currencies are out.
 * Two codes of list one are left out on purpose because no facility can be
 * denominated in them: XTS (reserved for testing) and XXX (no currency).
 * When the agency amends the list, change it here; nothing else depends on
 * its contents.
 *
 * @module
 */

/** Active ISO 4217 alphabetic codes, in alphabetical order. */
export const ISO_4217_CODES: readonly string[] = `
  AED AFN ALL AMD AOA ARS AUD AWG AZN
  BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
  CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK
  DJF DKK DOP DZD
  EGP ERN ETB EUR
  FJD FKP
  GBP GEL GHS GIP GMD GNF GTQ GYD
  HKD HNL HTG HUF
  IDR ILS INR IQD IRR ISK
  JMD JOD JPY
  KES KGS KHR KMF KPW KRW KWD KYD KZT
  LAK LBP LKR LRD LSL LYD
  MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
  NAD NGN NIO NOK NPR NZD
  OMR
  PAB PEN PGK PHP PKR PLN PYG
  QAR
  RON RSD RUB RWF
  SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
  THB TJS TMT TND TOP TRY TTD TWD TZS
  UAH UGX USD USN UYI UYU UYW UZS
  VED VES VND VUV
  WST
  XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA
  YER
  ZAR ZMW ZWG
`.trim().split(/\s+/);

/**
 * Whether `code` is an active ISO 4217 code. Case matters: codes are upper
 * case, and `eur` is not accepted, so the FX table lookup cannot miss.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIso4217 } from "./iso4217.ts";
 * assert.equal(isIso4217("EUR"), true);
 * assert.equal(isIso4217("eur"), false);
 * assert.equal(isIso4217("HRK"), false); // withdrawn 2023
 * ```
 */
export function isIso4217(code: string): boolean {
  return ISO_SET.has(code);
}

const ISO_SET = new Set(ISO_4217_CODES);
