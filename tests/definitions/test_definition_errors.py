"""One case per mistake a person can make: the files, and the exact lines `validate` prints.

Each message is `file: path: reason`, the path written the way the YAML reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from segment_pipeline.definitions.project import load_project
from segment_pipeline.definitions.validate import validate_project
from segment_pipeline.errors import ConfigError, ProjectInvalid

from .conftest import Write

BIG = """
entity: company
where:
  attribute: "employee_count >= 500"
"""

CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "unknown top-level key",
        {"segments/a.yml": "entity: company\ndescripton: x\nwhere: {all: []}\n"},
        [
            "project/segments/a.yml: unknown key 'descripton' (did you mean description?); "
            "expected one of: name, entity, mode, description, where, personas"
        ],
    ),
    (
        "unknown condition key",
        {"segments/a.yml": "entity: company\nwhere:\n  all:\n    - atribute: x\n"},
        [
            "project/segments/a.yml: where.all[0]: unknown key 'atribute' "
            "(did you mean attribute?); a condition is one of: "
            "all, any, not, attribute, company, event, aggregate, first_event, last_event, "
            "sequence, restarted, regularly, attribute_age, split, "
            "in_segment"
        ],
    ),
    (
        "aggregate without a function",
        {"segments/a.yml": ("entity: contact\nwhere:\n  aggregate: {event: order, at_least: 1}\n")},
        [
            "project/segments/a.yml: where.aggregate: name one of sum, avg, min, max, "
            "count_distinct, got none"
        ],
    ),
    (
        "aggregate of a column that is not a property",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n"
                "  aggregate: {sum: amount, event: order, between: [5, 1]}\n"
            )
        },
        [
            "project/segments/a.yml: where.aggregate.sum: must be an event property such as "
            "properties.amount, got 'amount'",
            "project/segments/a.yml: where.aggregate.between: between must be [low, high], "
            "numbers with low <= high, got [5, 1]",
        ],
    ),
    (
        "aggregate compared with text",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n"
                "  aggregate: {max: properties.x, event: order, at_most: lots}\n"
            )
        },
        ["project/segments/a.yml: where.aggregate.at_most: at_most must be a number, got 'lots'"],
    ),
    (
        "attribute age of a text column",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  attribute_age: {column: email, at_least_days: 3}\n"
            )
        },
        [
            "project/segments/a.yml: where.attribute_age.column: must be a date or timestamp "
            "attribute (signed_up_at), got 'email'"
        ],
    ),
    (
        "last event with a bad gap",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  last_event: {event: open, older_than_days: 0}\n"
            )
        },
        [
            "project/segments/a.yml: where.last_event.older_than_days: must be a whole number "
            ">= 1, got 0"
        ],
    ),
    (
        "first event with an unknown key",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  first_event: {event: signup, witin: {last_days: 7}}\n"
            )
        },
        [
            "project/segments/a.yml: where.first_event: unknown key 'witin' "
            "(did you mean within?); it takes: event, where, within"
        ],
    ),
    (
        "a sequence of one step",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  sequence: {steps: [{event: a}], within_days: 3}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence.steps: must be a list of 2 or 3 steps such "
            "as [{event: trial_started}, {event: pricing_viewed}], got 1 step"
        ],
    ),
    (
        "a sequence of four steps",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  sequence:\n"
                "    steps: [{event: a}, {event: b}, {event: c}, {event: d}]\n"
                "    within_days: 3\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence.steps: must be a list of 2 or 3 steps such "
            "as [{event: trial_started}, {event: pricing_viewed}], got 4 steps"
        ],
    ),
    (
        "a sequence without within_days",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  sequence: {steps: [{event: a}, {event: b}]}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence: needs within_days: how many days at most "
            "each step may come after the previous one"
        ],
    ),
    (
        "a sequence with negative within_days",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n"
                "  sequence: {steps: [{event: a}, {event: b}], within_days: -1}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence.within_days: must be a whole number >= 1 "
            "(a step must be strictly later than the previous one), got -1"
        ],
    ),
    (
        "a sequence with an unknown key",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n"
                "  sequence: {steps: [{event: a}, {event: b}], within_day: 3}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence: unknown key 'within_day' "
            "(did you mean within_days?); it takes: steps, within_days, within"
        ],
    ),
    (
        "a sequence step with an unknown key, another with a bad where, and a bad window",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  sequence:\n"
                "    steps:\n"
                "      - {event: a, count: {at_least: 2}}\n"
                "      - {event: b, where: \"plan = 'pro'\"}\n"
                "    within_days: 3\n"
                "    within: {last_days: 0}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence.steps[0]: unknown key 'count'; "
            "it takes: event, where",
            "project/segments/a.yml: where.sequence.steps[1].event.where: unknown column 'plan' "
            "(an event property is written properties.plan); event columns are: event_name, "
            "occurred_at",
            "project/segments/a.yml: where.sequence.within: last_days must be a whole number "
            ">= 1, got 0",
        ],
    ),
    (
        "a sequence step without an event",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  sequence: {steps: [{event: a}, b], within_days: 3}\n"
            )
        },
        [
            "project/segments/a.yml: where.sequence.steps[1]: must be a mapping such as "
            "{event: pricing_viewed, where: \"properties.plan = 'pro'\"}, got text 'b'"
        ],
    ),
    (
        "restarted without its gap",
        {"segments/a.yml": "entity: contact\nwhere:\n  restarted: {event: app_opened}\n"},
        [
            "project/segments/a.yml: where.restarted: needs gap_days: how many days without "
            "the event make the next one a restart, a whole number >= 1"
        ],
    ),
    (
        "restarted with a gap of no days",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  restarted: {event: app_opened, gap_days: 0}\n"
            )
        },
        ["project/segments/a.yml: where.restarted.gap_days: must be a whole number >= 1, got 0"],
    ),
    (
        "restarted with a count",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n"
                "  restarted: {event: app_opened, gap_days: 3, count: {at_least: 2}}\n"
            )
        },
        [
            "project/segments/a.yml: where.restarted: unknown key 'count'; it takes: event, "
            "where, gap_days, within"
        ],
    ),
    (
        "restarted with a bad window and a bad where",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  restarted:\n    event: app_opened\n"
                "    where: \"plan = 'pro'\"\n    gap_days: 3\n"
                "    within: {last_day: 7}\n"
            )
        },
        [
            "project/segments/a.yml: where.restarted.where: unknown column 'plan' (an event "
            "property is written properties.plan); event columns are: event_name, occurred_at",
            "project/segments/a.yml: where.restarted.within: unknown key 'last_day' "
            "(did you mean last_days?); within takes last_days, or from and to",
        ],
    ),
    (
        "regularly without its numbers",
        {"segments/a.yml": "entity: contact\nwhere:\n  regularly: {event: app_opened}\n"},
        [
            "project/segments/a.yml: where.regularly: needs period_days: how many days one "
            "period lasts, a whole number >= 1",
            "project/segments/a.yml: where.regularly: needs periods: how many of the latest "
            "periods are looked at, a whole number >= 1",
            "project/segments/a.yml: where.regularly: needs at_least: in how many of them the "
            "event must be, a whole number >= 1",
        ],
    ),
    (
        "regularly in more periods than it looks at",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  regularly:\n"
                "    {event: app_opened, period_days: 7, periods: 4, at_least: 5}\n"
            )
        },
        [
            "project/segments/a.yml: where.regularly.at_least: must be at most periods (4): "
            "the event can be in 4 periods at most, got 5"
        ],
    ),
    (
        "regularly with bad numbers and a window",
        {
            "segments/a.yml": (
                "entity: contact\nwhere:\n  regularly:\n"
                "    {event: app_opened, period_days: 1.5, periods: 0, at_least: true}\n"
                "  \n"
            ),
            "segments/b.yml": (
                "entity: contact\nwhere:\n  regularly:\n"
                "    {event: app_opened, period_days: 7, periods: 4, at_least: 3,"
                " within: {last_days: 28}}\n"
            ),
        },
        [
            "project/segments/a.yml: where.regularly.period_days: must be a whole number >= 1, "
            "got 1.5",
            "project/segments/a.yml: where.regularly.periods: must be a whole number >= 1, got 0",
            "project/segments/a.yml: where.regularly.at_least: must be a whole number >= 1, "
            "got true",
            "project/segments/b.yml: where.regularly: unknown key 'within'; it takes: event, "
            "where, period_days, periods, at_least",
        ],
    ),
    (
        "an event list with a non-name",
        {"segments/a.yml": "entity: company\nwhere:\n  event: [signup, 3]\n"},
        [
            "project/segments/a.yml: where.event: a list of events needs names such as "
            "pricing_viewed, got 3"
        ],
    ),
    (
        "an event pattern with a wrong key",
        {"segments/a.yml": "entity: company\nwhere:\n  event: {glob: 'feature_*'}\n"},
        [
            "project/segments/a.yml: where.event: an event name pattern is {like: 'feature_%'} "
            "(SQL LIKE: % any text, _ one character), got a mapping"
        ],
    ),
    (
        "a nested property path outside an event predicate",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  attribute: \"properties.plan.tier = 'pro'\"\n"
            )
        },
        [
            "project/segments/a.yml: where.attribute: properties.<key> is only allowed in an "
            "event condition's where"
        ],
    ),
    (
        "unknown key in an event condition",
        {"segments/a.yml": "entity: company\nwhere:\n  event: signup\n  cout: {at_least: 1}\n"},
        [
            "project/segments/a.yml: where.event: unknown key 'cout' (did you mean count?); "
            "an event condition takes: where, within, count"
        ],
    ),
    (
        "two keys in one condition",
        {
            "segments/a.yml": """
            entity: company
            where:
              all:
                - attribute: "employee_count > 1"
                  event: signup
            """
        },
        [
            "project/segments/a.yml: where.all[0]: one condition per item, got attribute and "
            "event: put each in its own item under all: or any:"
        ],
    ),
    (
        "the same key twice (YAML would keep only the last)",
        {
            "segments/a.yml": """
            entity: company
            where:
              attribute: "employee_count > 1"
              attribute: "employee_count > 2"
            """
        },
        [
            "project/segments/a.yml: line 4: not valid YAML: key 'attribute' appears twice in one "
            "mapping"
        ],
    ),
    (
        "negative at_least",
        {
            "segments/a.yml": """
            entity: company
            where:
              all:
                - attribute: "employee_count > 1"
                - attribute: "country = 'GB'"
                - event: pricing_viewed
                  count: {at_least: -1}
            """
        },
        [
            "project/segments/a.yml: where.all[2].event.count: "
            "at_least must be a whole number >= 0, got -1"
        ],
    ),
    (
        "between the wrong way round",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  event: signup\n  count: {between: [3, 1]}\n"
            )
        },
        [
            "project/segments/a.yml: where.event.count: between must be [low, high], whole "
            "numbers with 0 <= low <= high, got [3, 1]"
        ],
    ),
    (
        "a count that is not a number",
        {"segments/a.yml": "entity: company\nwhere:\n  event: signup\n  count: {exactly: true}\n"},
        [
            "project/segments/a.yml: where.event.count: "
            "exactly must be a whole number >= 0, got true"
        ],
    ),
    (
        "two count operators",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  event: signup\n  count: {at_least: 1, at_most: 3}\n"
            )
        },
        [
            "project/segments/a.yml: where.event.count: count takes one of at_least, at_most, "
            "exactly, between, got at_least and at_most"
        ],
    ),
    (
        "window from after to",
        {
            "segments/a.yml": """
            entity: company
            where:
              not:
                event: signup
                within: {from: 2026-06-30, to: 2026-06-01}
            """
        },
        ["project/segments/a.yml: where.not.event.within: from 2026-06-30 is after to 2026-06-01"],
    ),
    (
        "window with both kinds",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  event: signup\n"
                "  within: {last_days: 3, from: 2026-01-01, to: 2026-01-02}\n"
            )
        },
        ["project/segments/a.yml: where.event.within: use either last_days or from/to, not both"],
    ),
    (
        "window of zero days",
        {"segments/a.yml": "entity: company\nwhere:\n  event: signup\n  within: {last_days: 0}\n"},
        [
            "project/segments/a.yml: where.event.within: "
            "last_days must be a whole number >= 1, got 0"
        ],
    ),
    (
        "window with a bad date",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  event: signup\n"
                "  within: {from: 2026-02-30, to: 2026-03-01}\n"
            )
        },
        [
            "project/segments/a.yml: where.event.within: from must be a date like 2026-06-01, "
            "got '2026-02-30'"
        ],
    ),
    (
        "unknown entity",
        {"segments/a.yml": "entity: compnay\nwhere: {all: []}\n"},
        [
            "project/segments/a.yml: entity: must be 'company' or 'contact', "
            "got 'compnay' (did you mean company?)"
        ],
    ),
    (
        "missing where",
        {"segments/a.yml": "entity: company\n"},
        ["project/segments/a.yml: where: is required"],
    ),
    (
        "bad mode",
        {"segments/a.yml": "entity: company\nmode: live\nwhere: {all: []}\n"},
        ["project/segments/a.yml: mode: must be 'dynamic' or 'static', got 'live'"],
    ),
    (
        "personas on a contact segment",
        {
            "segments/a.yml": """
            entity: contact
            where: {all: []}
            personas:
              list:
                - name: buyer
                  where: "seniority = 'vp'"
            """
        },
        [
            "project/segments/a.yml: personas: personas are for company segments (they pick "
            "contacts of member companies); this segment's entity is contact"
        ],
    ),
    (
        "persona mistakes",
        {
            "segments/a.yml": """
            entity: company
            where: {all: []}
            personas:
              max_contacts_per_company: 0
              list:
                - name: buyer
                  where: "employee_count > 3"
                  max_contacts: 1
            """
        },
        [
            "project/segments/a.yml: personas.max_contacts_per_company: must be a whole number "
            ">= 1, got 0"
        ],
    ),
    (
        "persona predicate over company columns",
        {
            "segments/a.yml": """
            entity: company
            where: {all: []}
            personas:
              list:
                - name: buyer
                  where: "employee_count > 3"
                - name: buyer
                  where: "seniority = 'vp'"
            """
        },
        [
            "project/segments/a.yml: personas.list[0].where: unknown column 'employee_count'; "
            "contact attributes are: company_id, contact_id, department, email, "
            "is_former_employee, seniority, signed_up_at, title",
            "project/segments/a.yml: personas.list[1].name: persona buyer is listed twice",
        ],
    ),
    (
        "company condition on a company segment",
        {"segments/a.yml": "entity: company\nwhere:\n  company: \"country = 'GB'\"\n"},
        [
            "project/segments/a.yml: where.company: company: conditions are for contact "
            "segments; on a company segment use attribute:"
        ],
    ),
    (
        "a condition written as bare text",
        {"segments/a.yml": "entity: company\nwhere:\n  all:\n    - employee_count > 5\n"},
        [
            "project/segments/a.yml: where.all[0]: a condition must be a mapping with one of "
            "all, any, not, attribute, company, event, aggregate, first_event, last_event, "
            "sequence, restarted, regularly, attribute_age, split, "
            "in_segment; got text "
            "'employee_count > 5' (to test an attribute write attribute: \"...\")"
        ],
    ),
    (
        "all that is not a list",
        {"segments/a.yml": "entity: company\nwhere:\n  all: {attribute: x}\n"},
        ["project/segments/a.yml: where.all: must be a list of conditions, got a mapping"],
    ),
    (
        "unknown column in a predicate",
        {"segments/a.yml": 'entity: company\nwhere:\n  attribute: "employees >= 5"\n'},
        [
            "project/segments/a.yml: where.attribute: unknown column 'employees' (did you mean "
            "employee_count?); company "
            "attributes are: annual_revenue, company_id, country, domain, employee_count, "
            "founded_on, industry, name, tech_stack"
        ],
    ),
    (
        "event property outside an event",
        {"segments/a.yml": "entity: company\nwhere:\n  attribute: \"properties.plan = 'x'\"\n"},
        [
            "project/segments/a.yml: where.attribute: properties.<key> is only allowed in an "
            "event condition's where"
        ],
    ),
    (
        "attribute column in an event where",
        {
            "segments/a.yml": (
                "entity: company\nwhere:\n  event: pricing_viewed\n  where: \"plan = 'pro'\"\n"
            )
        },
        [
            "project/segments/a.yml: where.event.where: unknown column 'plan' (an event property "
            "is written properties.plan); event columns are: event_name, occurred_at"
        ],
    ),
    (
        "name clash",
        {
            "segments/a.yml": BIG,
            "segments/b.yml": "name: a\n" + BIG,
        },
        ["project/segments/b.yml: name: segment name a is already used by project/segments/a.yml"],
    ),
    (
        "name that is not a name",
        {"segments/a.yml": "name: Big Accounts\n" + BIG},
        [
            "project/segments/a.yml: name: must be a lower-case name like my_segment "
            "([a-z][a-z0-9_]*), got 'Big Accounts'"
        ],
    ),
    (
        "unknown segment reference",
        {
            "segments/big.yml": BIG,
            "segments/a.yml": "entity: company\nwhere:\n  all:\n    - not: {in_segment: bgi}\n",
        },
        [
            "project/segments/a.yml: where.all[0].not.in_segment: unknown segment 'bgi' "
            "(did you mean big?)"
        ],
    ),
    (
        "company segment referring to a contact segment",
        {
            "segments/people.yml": "entity: contact\nwhere: {attribute: \"seniority = 'vp'\"}\n",
            "segments/a.yml": "entity: company\nwhere: {in_segment: people}\n",
        },
        [
            "project/segments/a.yml: where.in_segment: people is a contact segment: a company "
            "segment can only refer to company segments (a contact segment may refer to a "
            "company segment, not the reverse)"
        ],
    ),
    (
        "reference cycle",
        {
            "segments/a.yml": "entity: company\nwhere: {all: [{in_segment: b}]}\n",
            "segments/b.yml": "entity: company\nwhere: {any: [{in_segment: c}]}\n",
            "segments/c.yml": "entity: company\nwhere: {not: {in_segment: a}}\n",
        },
        [
            "project/segments/a.yml: where.all[0].in_segment: segments refer to each other in "
            "a cycle: a -> b -> c -> a"
        ],
    ),
    (
        "self reference",
        {"segments/a.yml": "entity: company\nwhere: {in_segment: a}\n"},
        [
            "project/segments/a.yml: where.in_segment: segments refer to each other in a cycle: "
            "a -> a"
        ],
    ),
    (
        "a list attribute compared, ordered and given to a function",
        {
            "segments/a.yml": """
            entity: company
            where:
              any:
                - attribute: "tech_stack = 'stripe'"
                - attribute: "length(tech_stack) > 2"
            """,
            "segments/b.yml": """
            entity: contact
            where: {company: "tech_stack IN ('stripe', 'segment')"}
            """,
        },
        [
            f"project/segments/a.yml: where.any[{n}].attribute: tech_stack is a list of text: "
            "test what it holds with list_contains(tech_stack, 'x') or "
            "list_has_any(tech_stack, ['x', 'y']), or whether it is known with tech_stack IS NULL"
            for n in (0, 1)
        ]
        + [
            "project/segments/b.yml: where.company: tech_stack is a list of text: test what it "
            "holds with list_contains(tech_stack, 'x') or list_has_any(tech_stack, ['x', 'y']), "
            "or whether it is known with tech_stack IS NULL"
        ],
    ),
    (
        "list tests on a column that is no list, and of values that are no text",
        {
            "segments/a.yml": """
            entity: company
            where:
              all:
                - attribute: "list_contains(industry, 'saas')"
                - attribute: "NOT list_contains(tech_stack, 3)"
                - attribute: "list_has_any(tech_stack, 'stripe')"
                - attribute: "list_contains(lower(name), 'a')"
            """,
        },
        [
            "project/segments/a.yml: where.all[0].attribute: list_contains reads a list column, "
            "and industry is text: compare it with = or IN instead, or declare it list<text> "
            "in sources.yml",
            "project/segments/a.yml: where.all[1].attribute: tech_stack is a list of text: look "
            "for a text in quotes, such as list_contains(tech_stack, 'x'), not 3",
            "project/segments/a.yml: where.all[2].attribute: tech_stack is a list of text: "
            "list_has_any looks for texts in quotes, such as list_has_any(tech_stack, ['a', 'b'])",
            "project/segments/a.yml: where.all[3].attribute: list_contains reads a list column "
            "(a list<text> attribute or an entity model's list column) first, such as "
            "list_contains(tech_stack, 'x')",
        ],
    ),
    (
        "a list of values anywhere but list_has_any",
        {
            "segments/a.yml": """
            entity: company
            where: {attribute: "coalesce(['a'], tech_stack) IS NULL"}
            """
        },
        [
            "project/segments/a.yml: where.attribute: a list of values such as ['a'] is only "
            "allowed as the second argument of list_has_any"
        ],
    ),
    (
        "a column type sources.yml does not know",
        {"sources.yml": "companies:\n  columns: {tags: list<integer>}\n"},
        [
            "project/sources.yml: companies.columns.tags: must be 'text', 'integer', 'double', "
            "'boolean', 'date', 'timestamp' or 'list<text>', got 'list<integer>' "
            "(did you mean integer?)"
        ],
    ),
    (
        "journey on an unknown segment",
        {
            "segments/big.yml": BIG,
            "journeys/j.yml": "trigger_segment: bigg\nstarts_on: 2026-01-05\nduration_days: 7\n",
        },
        ["project/journeys/j.yml: trigger_segment: unknown segment 'bigg' (did you mean big?)"],
    ),
    (
        "journey mistakes",
        {
            "segments/big.yml": BIG,
            "journeys/j.yml": (
                "trigger_segment: big\nstarts_on: soon\nduration_days: 0\nallow_reentry: maybe\n"
            ),
        },
        [
            "project/journeys/j.yml: starts_on: must be a date like 2026-06-01, got 'soon'",
            "project/journeys/j.yml: duration_days: must be a whole number >= 1, got 0",
            "project/journeys/j.yml: allow_reentry: must be true or false, got text 'maybe'",
        ],
    ),
    (
        "destination mistakes",
        {
            "segments/big.yml": BIG,
            "journeys/welcome.yml": "trigger_segment: big\nstarts_on: 2026-01-05\n"
            "duration_days: 7\n",
            "destinations.yml": """
            - name: hook
              type: webhook
              url: ftp://example.com
              secret_env: S
            - name: files
              type: csv
              path: exports/
              segments: [big, bog]
              journeys: [welcom]
            - name: other
              type: kafka
            """,
        },
        [
            "project/destinations.yml: [0].url: must match ^https?://, got 'ftp://example.com'",
            "project/destinations.yml: [1].segments[1]: unknown segment 'bog' (did you mean big?)",
            "project/destinations.yml: [1].journeys[0]: unknown journey 'welcom' "
            "(did you mean welcome?)",
            "project/destinations.yml: [2]: type must be one of webhook, csv, got 'kafka'",
        ],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_error_message(write: Write, project_dir: Path, files: dict[str, str], expected: list[str]):
    for relative, text in files.items():
        write(relative, text)
    project, lines = validate_project(project_dir)
    assert project is None
    assert lines == expected


def test_every_problem_is_reported_not_only_the_first(write: Write, project_dir: Path):
    write(
        "segments/a.yml",
        """
        entity: company
        where:
          all:
            - attribute: "employe_count > 1"
            - event: signup
              count: {at_most: -2}
            - in_segment: nowhere
        """,
    )
    write("segments/b.yml", "entity: person\nwhere: {all: []}\n")
    write("journeys/j.yml", "trigger_segment: a\nstarts_on: 2026-01-01\nduration_days: 0\n")
    with pytest.raises(ProjectInvalid) as raised:
        load_project(project_dir)
    assert [(e.file, e.path) for e in raised.value.errors] == [
        ("project/segments/a.yml", "where.all[0].attribute"),
        ("project/segments/a.yml", "where.all[1].event.count"),
        ("project/segments/b.yml", "entity"),
        ("project/journeys/j.yml", "duration_days"),
    ]
    assert "(and 3 more)" in str(raised.value)


def test_reference_to_a_segment_with_mistakes_is_not_unknown(write: Write, project_dir: Path):
    write("segments/broken.yml", 'entity: company\nwhere: {attribute: "nope > 1"}\n')
    write("segments/a.yml", "entity: company\nwhere: {in_segment: broken}\n")
    _, lines = validate_project(project_dir)
    assert len(lines) == 1
    assert lines[0].startswith("project/segments/broken.yml: where.attribute: unknown column")


def test_missing_project_directory_is_a_config_error(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="nowhere does not exist"):
        load_project(missing)
    project, lines = validate_project(missing)
    assert project is None
    assert len(lines) == 1
    assert "nowhere does not exist" in lines[0]


def test_missing_sources_is_reported(project_dir: Path):
    (project_dir / "sources.yml").unlink()
    _, lines = validate_project(project_dir)
    assert lines == [
        "project/sources.yml: file not found: create it with `companies:` and `contacts:`"
    ]


def test_yaml_syntax_error_names_the_line(write: Write, project_dir: Path):
    write("segments/a.yml", "entity: company\nwhere:\n  all: [\n    {attribute: x}\n  oops: 1\n")
    _, lines = validate_project(project_dir)
    assert len(lines) == 1
    # The wording is libyaml's or PyYAML's; the shape is ours.
    assert lines[0].startswith("project/segments/a.yml: line 5: not valid YAML: ")
