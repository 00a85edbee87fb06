-- 医保资助名单: the subsidy towards each person's resident medical contribution, by category from
-- the year's table ($subsidy: category, kind full/fixed/share, amount, share). A person in
-- several categories gets the largest. Everyone who should enrol is listed, enrolled or not: the
-- subsidy is what makes enrolling free or cheap for them.
-- Parameters: $subsidy, $contribution, $mask_ids.

with table_rows as (

    select unnest($subsidy, recursive := true)

),

people as (

    select * from person_coverage
    where insurance = 'medical' and status in ('enrolled', 'unenrolled', 'review')

),

per_category as (

    select
        people.person_key,
        table_rows.category,
        case table_rows.kind
            when 'full' then $contribution::double
            when 'fixed' then least(table_rows.amount, $contribution::double)
            else round(table_rows.share * $contribution::double, 2)
        end as amount

    from people, unnest(people.categories) as c(category)
    inner join table_rows on table_rows.category = c.category

),

best as (

    select person_key, arg_max(category, amount) as category, max(amount) as amount
    from per_category
    group by person_key

)

select
    people.county,
    people.township,
    people.village,
    people.household_key,
    people.name,
    shown_id(people.id_number, $mask_ids) as id_number,
    best.category,
    people.status,
    best.amount,
    people.person_key

from best
inner join people using (person_key)
order by county, township, village, household_key nulls last, person_key
