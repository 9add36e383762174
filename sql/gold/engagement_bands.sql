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
            (1, 'bounce', 0.0, 30.0),
            (2, 'skim', 30.0, 300.0),
            (3, 'read', 300.0, 1800.0),
            (4, 'deep', 1800.0, null)
    ) as band_bounds (band_no, band, min_seconds, max_seconds)
),

engagements as (
    select
        engagement_seconds,
        progress_pct
    from silver_events
    where event_type = 'reader_engagement'
),

banded_engagements as (
    select
        bands.band_no,
        engagements.progress_pct
    from engagements
    inner join bands
        on engagements.engagement_seconds >= bands.min_seconds
        and (bands.max_seconds is null or engagements.engagement_seconds < bands.max_seconds)
),

band_totals as (
    select
        bands.band_no,
        bands.band,
        count(banded_engagements.band_no) as sessions,
        avg(banded_engagements.progress_pct)::double as avg_progress_pct
    from bands
    left join banded_engagements on banded_engagements.band_no = bands.band_no
    group by bands.band_no, bands.band
),

final as (
    select
        band_no,
        band,
        sessions,
        sessions::double / nullif(sum(sessions) over (), 0) as share,
        avg_progress_pct
    from band_totals
)

-- band_no only orders the rows: the bands are ordered by duration, not by name.
select * exclude (band_no) from final order by band_no
