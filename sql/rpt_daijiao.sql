-- 代缴名单: people whose minimum resident-pension contribution the county pays. 低保对象 and
-- 特困人员 always; 建档立卡贫困人口 while not marked out of poverty (已脱贫); only among the
-- configured categories, and only people enrolled in 城乡居民基本养老保险 who still pay
-- contributions: under the benefit age (from 60 the scheme pays them, they pay nothing). Someone
-- whose age cannot be told stays on the list for the county to check.
-- Parameters: $categories, $amount (the year's tier, 元), $benefit_age, $mask_ids.

with enrolled as (

    select * from person_coverage
    where insurance = 'pension' and status = 'enrolled'
        and roster_scheme like '城乡居民%'
        and coalesce(age < $benefit_age, true)

),

qualifying as (

    select
        *,
        list_filter(
            categories,
            lambda category: list_contains($categories, category)
                and (category <> '建档立卡贫困人口' or poverty_exit is distinct from '已脱贫')
        ) as paid_for

    from enrolled

)

select
    county,
    township,
    village,
    household_key,
    name,
    shown_id(id_number, $mask_ids) as id_number,
    array_to_string(paid_for, '、') as category,
    poverty_exit,
    roster_person_no,
    $amount::double as amount,
    person_key

from qualifying
where len(paid_for) > 0
order by county, township, village, household_key nulls last, person_key
