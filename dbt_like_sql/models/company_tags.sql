-- entity: company, key: company_id
-- Tags the sales team filters on: a company has any number of them (a list column).
with

companies as (
    select company_id, employee_count, industry, country, annual_revenue from companies
),

evaluating as (
    select distinct company_id
    from events
    where event_name in ('demo_requested', 'trial_started') and company_id is not null
),

final as (
    select
        companies.company_id,
        list_filter(
            [
                case when companies.employee_count >= 1000 then 'enterprise' end,
                case when companies.industry in ('saas', 'fintech') then 'software' end,
                case when companies.country in ('US', 'GB', 'DE') then 'core_market' end,
                case when companies.annual_revenue >= 50000000 then 'high_revenue' end,
                case when evaluating.company_id is not null then 'evaluating' end
            ],
            tag -> tag is not null
        ) as tags,
    from companies
    left join evaluating using (company_id)
)

select * from final
