-- Loss allowance, EAD and coverage per reporting date and IFRS 9 stage,
-- in the reporting currency (the star schema's *_rc columns). ECL splits
-- into loss allowance and provision (IFRS 7 B8E); coverage is ECL over the
-- gross carrying amount (methodology §9).
-- Tables: the star schema export (lib/report/star_schema.ts) loaded into
-- the dataset `ifrs9` (rename the dataset in the FROM clauses if yours differs).
CREATE OR REPLACE VIEW `ifrs9.v_ecl_by_date_stage` AS
SELECT
  d.date AS reporting_date,
  d.quarter_label,
  s.stage,
  s.measurement,
  COUNT(*) AS facilities,
  SUM(f.gross_carrying_amount_rc) AS gross_carrying_amount,
  SUM(f.ead_rc) AS ead,
  SUM(f.ecl_model_rc) AS ecl_model,
  SUM(f.ecl_rc) AS ecl,
  SUM(f.loss_allowance_rc) AS loss_allowance,
  SUM(f.provision_rc) AS provision,
  SAFE_DIVIDE(SUM(f.ecl_rc), SUM(f.gross_carrying_amount_rc)) AS coverage
FROM `ifrs9.fact_facility` AS f
JOIN `ifrs9.dim_date` AS d USING (date_key)
JOIN `ifrs9.dim_stage` AS s USING (stage_key)
GROUP BY reporting_date, d.quarter_label, s.stage, s.measurement;
