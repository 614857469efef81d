-- entity: company, key: company_id
-- How well a company fits our ideal customer, 0-100: size (35), industry (25), country (15)
-- and engagement (25: buying signals and active people in its events so far).
with

companies as (
    select company_id, employee_count, industry, country from companies
),

engagement as (
    select
        company_id,
        count(*) filter (where event_name in ('pricing_viewed', 'demo_requested')) as buying_signals,
        count(distinct contact_id) as active_contacts,
    from events
    where company_id is not null
    group by company_id
),

points as (
    select
        companies.company_id,
        case
            when companies.employee_count >= 1000 then 35
            when companies.employee_count >= 200 then 28
            when companies.employee_count >= 50 then 18
            when companies.employee_count >= 10 then 8
            else 0
        end as size_points,
        case
            when companies.industry = 'saas' then 25
            when companies.industry = 'fintech' then 22
            when companies.industry in ('media', 'retail') then 12
            else 5
        end as industry_points,
        case
            when companies.country in ('US', 'GB', 'DE') then 15
            when companies.country in ('FR', 'NL', 'AU') then 10
            else 4
        end as country_points,
        least(
            25,
            3 * coalesce(engagement.buying_signals, 0) + 2 * coalesce(engagement.active_contacts, 0)
        ) as engagement_points,
    from companies
    left join engagement using (company_id)
),

final as (
    select
        company_id,
        size_points + industry_points + country_points + engagement_points as score,
        size_points,
        industry_points,
        country_points,
        engagement_points,
    from points
)

select * from final
