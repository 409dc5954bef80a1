-- Loss allowance and coverage per reporting date, product and region, in
-- the reporting currency; the Looker Studio source for breakdown charts.
-- Coverage is ECL over the gross carrying amount (methodology §9).
CREATE OR REPLACE VIEW `ifrs9.v_ecl_by_product_region` AS
SELECT
  d.date AS reporting_date,
  p.product,
  r.region,
  f.stage_key AS stage,
  COUNT(*) AS facilities,
  SUM(f.gross_carrying_amount_rc) AS gross_carrying_amount,
  SUM(f.ead_rc) AS ead,
  SUM(f.ecl_rc) AS ecl,
  SUM(f.loss_allowance_rc) AS loss_allowance,
  SUM(f.provision_rc) AS provision,
  SAFE_DIVIDE(SUM(f.ecl_rc), SUM(f.gross_carrying_amount_rc)) AS coverage
FROM `ifrs9.fact_facility` AS f
JOIN `ifrs9.dim_date` AS d USING (date_key)
JOIN `ifrs9.dim_product` AS p USING (product_key)
JOIN `ifrs9.dim_region` AS r USING (region_key)
GROUP BY reporting_date, p.product, r.region, stage;
