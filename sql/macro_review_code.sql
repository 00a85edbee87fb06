-- The check code of one review pair: a hash of the pair and its township under the ledger's
-- secret (ledger_settings.review_secret). Written into each 待核实 row by rpt_township_review and
-- recomputed by pipelines/review.py when the workbook comes back: an edited pair, or a row
-- copied from another township's workbook, no longer matches its code.

create or replace temp macro review_code(secret, county, township, person_key, insurance, roster_no)
as left(sha256(concat_ws('|', secret, county, township, person_key, insurance, roster_no)), 16)
