-- Stage 2: a 15-digit legacy number (GB 11643-1989) upgraded to 18 on either side, equal to the
-- other side's 18-digit number. Kept apart from stage 1 so the ledger shows which matches needed
-- the upgrade.

with people as (

    select * from int_match_people
    where id_number is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where id_number is not null

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        'upgraded_id' as method,
        'same_id_after_upgrade' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from people
    inner join records using (id_number)
    semi join int_match_open_people as open
        on open.identity = people.identity and open.insurance = records.insurance
    where people.id_kind = 'upgraded' or records.id_kind = 'upgraded'

)

select * from pairs
