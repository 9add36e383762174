-- gold/dropoff_rate: per work, the share of its readers who gave up, and how far in they were.
-- grain: one row per work_id with at least one reader_engagement or reader_dropoff event.
-- readers = distinct reader_id over both reader event types;
-- dropped_readers = distinct reader_id with a reader_dropoff;
-- dropoff_rate = dropped_readers / readers (null if readers = 0);
-- median_dropoff_progress_pct = continuous median of progress_pct over the work's
-- reader_dropoff events (every event, not one per reader; null if there are none).

with

reader_events as (
    select
        work_id,
        reader_id,
        event_type,
        progress_pct
    from silver_events
    where event_type in ('reader_engagement', 'reader_dropoff')
),

work_readers as (
    select
        work_id,
        count(distinct reader_id) as readers,
        count(distinct reader_id) filter (where event_type = 'reader_dropoff') as dropped_readers,
        (quantile_cont(progress_pct, 0.5) filter (where event_type = 'reader_dropoff'))::double
            as median_dropoff_progress_pct
    from reader_events
    group by work_id
),

final as (
    select
        work_id,
        readers,
        dropped_readers,
        dropped_readers::double / nullif(readers, 0) as dropoff_rate,
        median_dropoff_progress_pct
    from work_readers
)

select * from final order by work_id
