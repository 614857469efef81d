-- entity: company, key: company_id
-- The fit score in the three tiers account owners talk about (reads the company_fit model).
select
    company_id,
    case when score >= 75 then 'A' when score >= 55 then 'B' else 'C' end as tier,
from company_fit
