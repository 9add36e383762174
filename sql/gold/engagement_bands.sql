-- gold/engagement_bands: how long reading sessions last, in four bands from bounce to deep reading.
-- grain: exactly four rows, one per band, in the order bounce, skim, read, deep.
-- band of a reader_engagement event by engagement_seconds: bounce [0, 30), skim [30, 300),
-- read [300, 1800), deep [1800, infinity). sessions = events in the band (0 if none);
-- share = sessions / all banded sessions (null if there are none);
-- avg_progress_pct = mean progress_pct of the band's events (null for an empty band).

with

bands as (
    select *
    from (
        values
            (1, 'bounce'),
            (2, 'skim'),
            (3, 'read'),
            (4, 'deep')
    ) as band_names (band_no, band)
),

-- The bounds are a CASE rather than a range join on a table of bounds: DuckDB compared every
-- event with every band then, 2.5 times slower at a million events.
band_totals as (
    select
        case
            when engagement_seconds < 30 then 1
            when engagement_seconds < 300 then 2
            when engagement_seconds < 1800 then 3
            else 4
        end as band_no,
        count(*) as sessions,
        avg(progress_pct)::double as avg_progress_pct
    from silver_events
    where event_type = 'reader_engagement' and engagement_seconds >= 0
    group by band_no
),

final as (
    select
        bands.band_no,
        bands.band,
        coalesce(band_totals.sessions, 0) as sessions,
        coalesce(band_totals.sessions, 0)::double / nullif(sum(band_totals.sessions) over (), 0) as share,
        band_totals.avg_progress_pct
    from bands
    left join band_totals on band_totals.band_no = bands.band_no
)

-- band_no only orders the rows: the bands are ordered by duration, not by name.
select * exclude (band_no) from final order by band_no
