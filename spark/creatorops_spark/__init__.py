"""The CreatorOps pipeline on Spark: bronze -> silver -> gold over the same Delta tables, with the
same contract (contracts/event_schema.json), expectations (contracts/expectations.yml) and gold
models (sql/gold/*.sql) as the TypeScript pipeline."""
