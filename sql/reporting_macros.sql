-- Macros the report queries share. Created as temp macros on the connection that writes the
-- reports (pipelines/reporting/) and on the one that reads review workbooks back (review.py).

-- An ID number as workbooks show it when masking is asked for (`[reports] mask_ids`,
-- `--mask-ids`): the region code and the last four characters, 430102********1234.
create or replace temp macro shown_id(id_number, mask_ids)
as if(mask_ids, left(id_number, 6) || '********' || right(id_number, 4), id_number);

-- The check code of one review pair: a hash of the pair and its township under the ledger's
-- secret (ledger_settings.review_secret). Written into each 待核实 row by rpt_township_review and
-- recomputed by pipelines/review.py when the workbook comes back: an edited pair, or a row
-- copied from another township's workbook, no longer matches its code.
create or replace temp macro review_code(secret, county, township, person_key, insurance, roster_no)
as left(sha256(concat_ws('|', secret, county, township, person_key, insurance, roster_no)), 16)
