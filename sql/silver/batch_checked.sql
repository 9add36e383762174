-- batch_checked: the batch's typed rows with one boolean column per expectation.
-- batch_typed holds the rows in bronze order, numbers as DOUBLE (only the columns the
-- expectations name, plus those dedup needs); expectations see them typed as in silver/events.
-- {{flags}}: `, coalesce((<expr>), false) AS "__exp_<i>"` per expectation (NULL is a violation);
-- {{whole_numbers}}: `<col>::BIGINT AS <col>` per whole-number column; {{batch_id}}: a literal.

create or replace table batch_checked as
select row_idx, line_no, event_id, occurred_at, ingested_at{{flags}}
from (
    select
        * replace ({{whole_numbers}}),
        {{batch_id}} as batch_id,
        occurred_at::timestamp::date as event_date
    from batch_typed
);

drop table batch_typed;
