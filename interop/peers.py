"""Tables written by the peers — Spark (delta-spark) and delta-rs (python `deltalake`) — one per
feature users meet, each with a few versions, written fresh at test time into a folder.

Each case is (writer, feature): `build(ctx, path)` writes the table at `path`. Rows are few and
deterministic, so row and version counts are the same on every run.
"""
import datetime as dt
import decimal
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

D = decimal.Decimal
UTC = dt.timezone.utc

# Partition values that need escaping in paths, or are easy to get wrong: null, spaces, '%', '=',
# '/', unicode, quotes, '#'.
AWKWARD = [None, "a b", "100%", "x=y", "a/b", "ünï 日本", "it's", "#?&", "plain"]


@dataclass
class Case:
    writer: str  # "spark" | "delta-rs"
    feature: str  # a key of FEATURES
    build: Callable
    notes: str = ""

    @property
    def id(self):
        return f"{self.writer}:{self.feature}"


# feature key -> what the table exercises (the matrix's rows, in this order)
FEATURES = {
    "default": "default settings: append, delete, update, overwrite",
    "partitions": "partitioned by string (null, `a b`, `%`, `=`, `/`, unicode, quote, `#?&`), date, timestamp, int",
    "checkpoint-classic": "classic single-file checkpoints (checkpointInterval 2)",
    "checkpoint-multipart": "multi-part checkpoints",
    "checkpoint-v2": "V2 checkpoints (JSON top level with sidecars)",
    "deletion-vectors": "deletion vectors from DELETE, UPDATE and MERGE",
    "column-mapping-name": "column mapping by name: renamed and dropped columns, a name with spaces",
    "column-mapping-id": "column mapping by id: renamed and dropped columns",
    "timestamp-ntz": "timestamp without time zone (incl. before 1970, as a partition column)",
    "schema-evolution": "schema evolution mid-history: mergeSchema append, ADD COLUMNS",
    "change-data-feed": "change data feed on: update, delete, merge (`_change_data` files)",
    "in-commit-timestamps": "in-commit timestamps",
    "row-tracking": "row tracking (materialised row ids after update)",
    "liquid-clustering": "liquid clustering (CLUSTER BY, OPTIMIZE; `delta.clustering` domain metadata)",
    "domain-metadata": "domain metadata table feature, no clustering",
    "type-widening": "type widening: byte→short→int→long, float→double, decimal wider, date→timestamp_ntz",
    "all-types": "every data type: byte/short/int/long, float/double (NaN, ±Infinity, -0.0), decimals, string, binary, boolean, date and timestamps before 1970, struct, array, map, nested",
    "optimize-vacuum": "OPTIMIZE then VACUUM (retention 0) in history: older versions' files gone",
    "restore": "RESTORE to an earlier version",
}


# ---------------------------------------------------------------------------------------------
# Spark


def _sql(spark, text):
    spark.sql(text).collect()


@contextmanager
def _conf(spark, **values):
    """Session settings for one table only."""
    keys = {k.replace("__", "."): v for k, v in values.items()}
    old = {k: spark.conf.get(k, None) for k in keys}
    for k, v in keys.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def _t(p):
    return f"delta.`{p}`"


def _simple(spark, ids, tag="v0"):
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    schema = StructType([StructField("id", LongType()), StructField("name", StringType()), StructField("amount", DoubleType())])
    return spark.createDataFrame([(i, f"{tag}-{i}", i * 1.5) for i in ids], schema)


def _create(spark, p, columns, props=None, extra=""):
    tbl = f" TBLPROPERTIES ({', '.join(f'{chr(39)}{k}{chr(39)} = {chr(39)}{v}{chr(39)}' for k, v in props.items())})" if props else ""
    _sql(spark, f"CREATE TABLE {_t(p)} ({columns}) USING delta {extra}{tbl}")


def spark_default(spark, p):
    _simple(spark, range(0, 10)).write.format("delta").save(p)  # v0
    _simple(spark, range(10, 20), "v1").write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 3 = 0")  # v2
    _sql(spark, f"UPDATE {_t(p)} SET name = concat(name, '!'), amount = amount * 2 WHERE id % 4 = 1")  # v3
    _simple(spark, range(100, 105), "v4").write.format("delta").mode("overwrite").save(p)  # v4


def _partition_rows(n, offset=0):
    rows = []
    for i in range(n):
        k = i + offset
        rows.append((
            k,
            AWKWARD[k % len(AWKWARD)],
            None if k % 7 == 3 else dt.date(1969 + k % 4, 1 + k % 12, 1 + k % 28),
            None if k % 5 == 2 else dt.datetime(2021, 3, 14, 1, 59, 26, 535897 if k % 2 else 0, tzinfo=UTC) - dt.timedelta(days=400 * (k % 3)),
            None if k % 6 == 0 else k % 3,
            f"value {k}",
        ))
    return rows


def spark_partitions(spark, p):
    from pyspark.sql.types import DateType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

    schema = StructType([
        StructField("id", LongType()), StructField("p_str", StringType()), StructField("p_date", DateType()),
        StructField("p_ts", TimestampType()), StructField("p_int", IntegerType()), StructField("v", StringType()),
    ])
    df = lambda rows: spark.createDataFrame(rows, schema)  # noqa: E731
    df(_partition_rows(14)).write.format("delta").partitionBy("p_str", "p_date", "p_ts", "p_int").save(p)  # v0
    df(_partition_rows(6, 14)).write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE p_str = 'x=y' OR p_str IS NULL AND id > 10")  # v2
    _sql(spark, f"UPDATE {_t(p)} SET v = 'updated' WHERE p_str = 'a/b' OR p_int IS NULL")  # v3


def _appends(spark, p, n, start=1):
    for v in range(start, start + n):
        _simple(spark, range(10 * v, 10 * v + 5), f"v{v}").write.format("delta").mode("append").save(p)


def spark_checkpoint_classic(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.checkpointInterval": "2"})  # v0
    _appends(spark, p, 3)  # v1..v3 (checkpoint at 2)
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 2 = 0")  # v4 (checkpoint at 4)
    _appends(spark, p, 1, 5)  # v5


def spark_checkpoint_multipart(spark, p):
    with _conf(spark, spark__databricks__delta__checkpoint__partSize="2"):
        spark_checkpoint_classic(spark, p)


def spark_checkpoint_v2(spark, p):
    with _conf(spark, spark__databricks__delta__checkpoint__partSize="2"):
        _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.checkpointInterval": "2", "delta.checkpointPolicy": "v2"})  # v0
        _appends(spark, p, 3)  # v1..v3 (checkpoint at 2)
        _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 2 = 0")  # v4 (checkpoint at 4)
        _appends(spark, p, 1, 5)  # v5


def spark_deletion_vectors(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.enableDeletionVectors": "true"})  # v0
    _simple(spark, range(0, 20)).coalesce(1).write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 4 = 0")  # v2
    _sql(spark, f"UPDATE {_t(p)} SET name = 'updated' WHERE id % 5 = 1")  # v3
    _simple(spark, range(15, 25), "m").createOrReplaceTempView("dv_source")
    _sql(spark, f"""MERGE INTO {_t(p)} t USING dv_source s ON t.id = s.id
        WHEN MATCHED AND s.id % 2 = 0 THEN DELETE
        WHEN MATCHED THEN UPDATE SET name = s.name
        WHEN NOT MATCHED THEN INSERT *""")  # v4


def _spark_column_mapping(spark, p, mode):
    _create(spark, p, "id BIGINT, `first name` STRING, age INT, city STRING",
            {"delta.columnMapping.mode": mode, "delta.minReaderVersion": "2", "delta.minWriterVersion": "5"})  # v0
    _sql(spark, f"INSERT INTO {_t(p)} VALUES (1, 'ann', 30, 'Oslo'), (2, 'bob', NULL, 'Rome'), (3, NULL, 41, NULL)")  # v1
    _sql(spark, f"ALTER TABLE {_t(p)} RENAME COLUMN `first name` TO `given name`")  # v2
    _sql(spark, f"ALTER TABLE {_t(p)} DROP COLUMN age")  # v3
    _sql(spark, f"ALTER TABLE {_t(p)} ADD COLUMNS (age STRING)")  # v4: a new column with a dropped one's name
    _sql(spark, f"INSERT INTO {_t(p)} VALUES (4, 'cy', 'Lima', 'forty')")  # v5


def spark_column_mapping_name(spark, p):
    _spark_column_mapping(spark, p, "name")


def spark_column_mapping_id(spark, p):
    _spark_column_mapping(spark, p, "id")


def _ntz_rows(offset=0):
    base = [dt.datetime(1969, 7, 20, 20, 17, 40, 123456), dt.datetime(1900, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, 999999), None,
            dt.datetime(1970, 1, 1), dt.datetime(2038, 1, 19, 3, 14, 8, 1)]
    return [(i + offset, base[i % len(base)], base[(i + 2) % len(base)]) for i in range(len(base))]


def spark_timestamp_ntz(spark, p):
    from pyspark.sql.types import IntegerType, StructField, StructType, TimestampNTZType

    schema = StructType([StructField("id", IntegerType()), StructField("ts", TimestampNTZType()), StructField("part", TimestampNTZType())])
    spark.createDataFrame(_ntz_rows(), schema).write.format("delta").partitionBy("part").save(p)  # v0
    spark.createDataFrame(_ntz_rows(10), schema).write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 4 = 1")  # v2


def spark_schema_evolution(spark, p):
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    s0 = StructType([StructField("id", LongType()), StructField("a", StringType())])
    s1 = StructType([StructField("id", LongType()), StructField("a", StringType()), StructField("b", IntegerType())])
    spark.createDataFrame([(i, f"a{i}") for i in range(5)], s0).write.format("delta").save(p)  # v0
    spark.createDataFrame([(i, f"a{i}", i * 10) for i in range(5, 10)], s1).write.format("delta").mode("append") \
        .option("mergeSchema", "true").save(p)  # v1
    _sql(spark, f"ALTER TABLE {_t(p)} ADD COLUMNS (c STRUCT<x: INT, y: STRING>, d ARRAY<BIGINT>)")  # v2
    _sql(spark, f"INSERT INTO {_t(p)} VALUES (10, 'a10', 100, named_struct('x', 1, 'y', 'one'), array(1, 2)), (11, NULL, NULL, NULL, NULL)")  # v3
    _sql(spark, f"UPDATE {_t(p)} SET b = -1 WHERE b IS NULL AND id < 5")  # v4


def spark_change_data_feed(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.enableChangeDataFeed": "true"})  # v0
    _simple(spark, range(0, 12)).write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"UPDATE {_t(p)} SET amount = -amount WHERE id % 3 = 0")  # v2
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 4 = 1")  # v3
    _simple(spark, range(8, 16), "m").createOrReplaceTempView("cdf_source")
    _sql(spark, f"""MERGE INTO {_t(p)} t USING cdf_source s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT *""")  # v4


def spark_in_commit_timestamps(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.enableInCommitTimestamps": "true"})  # v0
    _appends(spark, p, 2)  # v1, v2
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id % 2 = 1")  # v3


def spark_row_tracking(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.enableRowTracking": "true"})  # v0
    _appends(spark, p, 2)  # v1, v2
    _sql(spark, f"UPDATE {_t(p)} SET name = 'updated' WHERE id % 2 = 0")  # v3
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id = 11")  # v4


def spark_liquid_clustering(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", extra="CLUSTER BY (id)")  # v0
    _appends(spark, p, 2)  # v1, v2
    _sql(spark, f"OPTIMIZE {_t(p)}")  # v3
    _sql(spark, f"ALTER TABLE {_t(p)} CLUSTER BY (name)")  # v4
    _appends(spark, p, 1, 3)  # v5


def spark_domain_metadata(spark, p):
    _create(spark, p, "id BIGINT, name STRING, amount DOUBLE", {"delta.feature.domainMetadata": "supported"})  # v0
    _appends(spark, p, 2)  # v1, v2


def spark_type_widening(spark, p):
    _create(spark, p, "b BYTE, s SHORT, i INT, f FLOAT, d DECIMAL(5,2), day DATE", {"delta.enableTypeWidening": "true", "delta.feature.timestampNtz": "supported"})  # v0
    _sql(spark, f"INSERT INTO {_t(p)} VALUES (1Y, 2S, 3, 1.5F, 123.45BD, DATE'1969-12-31'), (-128Y, -32768S, -2147483648, -0.25F, -999.99BD, NULL)")  # v1
    for col, to in [("b", "SHORT"), ("s", "INT"), ("i", "BIGINT"), ("f", "DOUBLE"), ("d", "DECIMAL(10,4)"), ("day", "TIMESTAMP_NTZ")]:
        _sql(spark, f"ALTER TABLE {_t(p)} ALTER COLUMN {col} TYPE {to}")  # v2..v7
    _sql(spark, f"INSERT INTO {_t(p)} VALUES (1000, 100000, 9007199254740993, 0.1D, 123456.7891BD, TIMESTAMP_NTZ'2020-02-02 02:02:02.000002')")  # v8
    _sql(spark, f"ALTER TABLE {_t(p)} ALTER COLUMN b TYPE INT")  # v9


def _all_types_schema():
    from pyspark.sql.types import (
        ArrayType, BinaryType, BooleanType, ByteType, DateType, DecimalType, DoubleType, FloatType, IntegerType, LongType,
        MapType, ShortType, StringType, StructField, StructType, TimestampNTZType, TimestampType,
    )

    return StructType([
        StructField("id", IntegerType()),
        StructField("b", ByteType()), StructField("s", ShortType()), StructField("i", IntegerType()), StructField("l", LongType()),
        StructField("f", FloatType()), StructField("d", DoubleType()),
        StructField("dec_small", DecimalType(5, 2)), StructField("dec_mid", DecimalType(18, 6)), StructField("dec_big", DecimalType(38, 18)),
        StructField("str", StringType()), StructField("bin", BinaryType()), StructField("bool", BooleanType()),
        StructField("day", DateType()), StructField("ts", TimestampType()), StructField("ts_ntz", TimestampNTZType()),
        StructField("st", StructType([
            StructField("a", IntegerType()), StructField("b", StringType()),
            StructField("inner", StructType([StructField("dec", DecimalType(10, 2)), StructField("ts", TimestampType())])),
        ])),
        StructField("arr", ArrayType(IntegerType())),
        StructField("arr_st", ArrayType(StructType([StructField("k", StringType()), StructField("v", DoubleType())]))),
        StructField("m", MapType(StringType(), LongType())),
        StructField("m_arr", MapType(IntegerType(), ArrayType(StringType()))),
    ])


def _all_types_rows(offset=0):
    ts = dt.datetime
    rows = [
        (0, 127, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308, D("999.99"), D("123456789012.345678"),
         D("12345678901234567890.123456789012345678"), "plain", b"\x00\x01\xfe\xff", True, dt.date(1, 1, 1),
         ts(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), ts(1969, 12, 31, 23, 59, 59, 999999),
         (1, "x", (D("12345678.90"), ts(1900, 1, 1, tzinfo=UTC))), [1, None, 3], [("a", 1.5), ("b", None)], {"one": 1, "big": 2 ** 62}, {1: ["a", None], 2: []}),
        (1, -128, -32768, -2147483648, -9223372036854775808, float("nan"), float("nan"), D("-999.99"), D("-0.000001"),
         D("-0.000000000000000001"), "ünï 日本 \"quoted\" \\ \n tab\t", b"", False, dt.date(1969, 7, 20),
         ts(1066, 10, 14, 9, 0, 0, 1, tzinfo=UTC), ts(2262, 4, 11, 23, 47, 16, 854775),
         (None, None, None), [], [], {}, {}),
        (2, 0, 0, 0, 0, float("inf"), float("-inf"), D("0.00"), D("0.000000"), D("0E-18"), "", None, None, dt.date(9999, 12, 31),
         ts(2024, 2, 29, 12, 0, 0, 500000, tzinfo=UTC), ts(1970, 1, 1), None, None, None, None, None),
        (3, None, None, None, None, -0.0, -0.0, None, None, None, None, b"binary \x80", True, None, None, None,
         (7, None, (None, ts(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC))), [None], [(None, float("nan"))], {"nul": None}, {-1: None}),
        (4, 1, 1, 1, 9007199254740993, 1.1, 0.1, D("1.10"), D("1.000001"), D("0.1"), "a b", b"\xff" * 20, False, dt.date(2000, 2, 29),
         ts(2000, 1, 1, tzinfo=UTC), ts(1999, 12, 31, 23, 59, 59), (1, "", (D("-0.01"), None)), [2147483647, -2147483648], [("", -0.0)], {"": -1}, {0: [""]}),
    ]
    return [(r[0] + offset,) + r[1:] for r in rows]


def spark_all_types(spark, p):
    schema = _all_types_schema()
    spark.createDataFrame(_all_types_rows(), schema).coalesce(1).write.format("delta").save(p)  # v0
    spark.createDataFrame(_all_types_rows(10)[:3], schema).coalesce(1).write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id = 11")  # v2


def spark_optimize_vacuum(spark, p):
    with _conf(spark, spark__databricks__delta__retentionDurationCheck__enabled="false"):
        _simple(spark, range(0, 5)).write.format("delta").save(p)  # v0
        _appends(spark, p, 2)  # v1, v2
        _sql(spark, f"OPTIMIZE {_t(p)}")  # v3
        _sql(spark, f"DELETE FROM {_t(p)} WHERE id = 3")  # v4
        _sql(spark, f"VACUUM {_t(p)} RETAIN 0 HOURS")  # v5 VACUUM START, v6 VACUUM END


def spark_restore(spark, p):
    _simple(spark, range(0, 8)).write.format("delta").save(p)  # v0
    _simple(spark, range(8, 12), "v1").write.format("delta").mode("append").save(p)  # v1
    _sql(spark, f"DELETE FROM {_t(p)} WHERE id < 4")  # v2
    _sql(spark, f"RESTORE TABLE {_t(p)} TO VERSION AS OF 1")  # v3
    _sql(spark, f"UPDATE {_t(p)} SET name = 'after restore' WHERE id = 0")  # v4


# ---------------------------------------------------------------------------------------------
# delta-rs

def _pa_simple(ids, tag="v0"):
    import pyarrow as pa

    ids = list(ids)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"{tag}-{i}" for i in ids], pa.string()),
        "amount": pa.array([i * 1.5 for i in ids], pa.float64()),
    })


def rs_default(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_simple(range(0, 10)))  # v0
    write_deltalake(p, _pa_simple(range(10, 20), "v1"), mode="append")  # v1
    DeltaTable(p).delete("id % 3 = 0")  # v2
    DeltaTable(p).update(predicate="id % 4 = 1", updates={"name": "concat(name, '!')", "amount": "amount * 2"})  # v3
    write_deltalake(p, _pa_simple(range(100, 105), "v4"), mode="overwrite")  # v4


def rs_partitions(p):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    def table(rows):
        cols = list(zip(*rows))
        return pa.table({
            "id": pa.array(cols[0], pa.int64()), "p_str": pa.array(cols[1], pa.string()), "p_date": pa.array(cols[2], pa.date32()),
            "p_ts": pa.array(cols[3], pa.timestamp("us", tz="UTC")), "p_int": pa.array(cols[4], pa.int32()), "v": pa.array(cols[5], pa.string()),
        })

    write_deltalake(p, table(_partition_rows(14)), partition_by=["p_str", "p_date", "p_ts", "p_int"])  # v0
    write_deltalake(p, table(_partition_rows(6, 14)), mode="append")  # v1
    DeltaTable(p).delete("p_str = 'x=y' OR p_str IS NULL AND id > 10")  # v2
    DeltaTable(p).update(predicate="p_str = 'a/b' OR p_int IS NULL", updates={"v": "'updated'"})  # v3


def rs_checkpoint_classic(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_simple(range(0, 5)), configuration={"delta.checkpointInterval": "2"})  # v0
    for v in range(1, 4):
        write_deltalake(p, _pa_simple(range(10 * v, 10 * v + 5), f"v{v}"), mode="append")  # v1..v3
    DeltaTable(p).delete("id % 2 = 0")  # v4
    write_deltalake(p, _pa_simple(range(50, 55), "v5"), mode="append")  # v5
    DeltaTable(p).create_checkpoint()  # at v5


def rs_timestamp_ntz(p):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    def table(rows):
        cols = list(zip(*rows))
        return pa.table({"id": pa.array(cols[0], pa.int32()), "ts": pa.array(cols[1], pa.timestamp("us")), "part": pa.array(cols[2], pa.timestamp("us"))})

    write_deltalake(p, table(_ntz_rows()), partition_by=["part"])  # v0
    write_deltalake(p, table(_ntz_rows(10)), mode="append")  # v1
    DeltaTable(p).delete("id % 4 = 1")  # v2


def rs_schema_evolution(p):
    import pyarrow as pa
    from deltalake import DeltaTable, Field, write_deltalake
    from deltalake.schema import ArrayType, PrimitiveType, StructType

    write_deltalake(p, pa.table({"id": pa.array(range(5), pa.int64()), "a": [f"a{i}" for i in range(5)]}))  # v0
    write_deltalake(p, pa.table({"id": pa.array(range(5, 10), pa.int64()), "a": [f"a{i}" for i in range(5, 10)],
                                 "b": pa.array([i * 10 for i in range(5, 10)], pa.int32())}), mode="append", schema_mode="merge")  # v1
    DeltaTable(p).alter.add_columns([
        Field("c", StructType([Field("x", PrimitiveType("integer")), Field("y", PrimitiveType("string"))])),
        Field("d", ArrayType(PrimitiveType("long"))),
    ])  # v2
    c = pa.struct([("x", pa.int32()), ("y", pa.string())])
    write_deltalake(p, pa.table({
        "id": pa.array([10, 11], pa.int64()), "a": ["a10", None], "b": pa.array([100, None], pa.int32()),
        "c": pa.array([{"x": 1, "y": "one"}, None], c), "d": pa.array([[1, 2], None], pa.list_(pa.int64())),
    }), mode="append")  # v3
    DeltaTable(p).update(predicate="b IS NULL AND id < 5", updates={"b": "-1"})  # v4


def rs_change_data_feed(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_simple(range(0, 12)), configuration={"delta.enableChangeDataFeed": "true"})  # v0
    DeltaTable(p).update(predicate="id % 3 = 0", updates={"amount": "-amount"})  # v1
    DeltaTable(p).delete("id % 4 = 1")  # v2
    (DeltaTable(p).merge(_pa_simple(range(8, 16), "m"), predicate="t.id = s.id", source_alias="s", target_alias="t")
     .when_matched_update(updates={"name": "s.name"}).when_not_matched_insert_all().execute())  # v3




def _pa_all_types(rows):
    import pyarrow as pa

    cols = list(zip(*rows))
    inner = pa.struct([("dec", pa.decimal128(10, 2)), ("ts", pa.timestamp("us", tz="UTC"))])
    st = pa.struct([("a", pa.int32()), ("b", pa.string()), ("inner", inner)])
    as_struct = lambda v: None if v is None else {"a": v[0], "b": v[1], "inner": None if v[2] is None else {"dec": v[2][0], "ts": v[2][1]}}  # noqa: E731
    arr_st = pa.list_(pa.struct([("k", pa.string()), ("v", pa.float64())]))
    return pa.table({
        "id": pa.array(cols[0], pa.int32()), "b": pa.array(cols[1], pa.int8()), "s": pa.array(cols[2], pa.int16()),
        "i": pa.array(cols[3], pa.int32()), "l": pa.array(cols[4], pa.int64()),
        "f": pa.array(cols[5], pa.float32()), "d": pa.array(cols[6], pa.float64()),
        "dec_small": pa.array(cols[7], pa.decimal128(5, 2)), "dec_mid": pa.array(cols[8], pa.decimal128(18, 6)),
        "dec_big": pa.array(cols[9], pa.decimal128(38, 18)),
        "str": pa.array(cols[10], pa.string()), "bin": pa.array(cols[11], pa.binary()), "bool": pa.array(cols[12], pa.bool_()),
        "day": pa.array(cols[13], pa.date32()),
        "ts": pa.array(cols[14], pa.timestamp("us", tz="UTC")), "ts_ntz": pa.array(cols[15], pa.timestamp("us")),
        "st": pa.array([as_struct(v) for v in cols[16]], st),
        "arr": pa.array(cols[17], pa.list_(pa.int32())),
        "arr_st": pa.array([None if v is None else [{"k": k, "v": x} for k, x in v] for v in cols[18]], arr_st),
        "m": pa.array([None if v is None else list(v.items()) for v in cols[19]], pa.map_(pa.string(), pa.int64())),
        "m_arr": pa.array([None if v is None else list(v.items()) for v in cols[20]], pa.map_(pa.int32(), pa.list_(pa.string()))),
    })


def rs_all_types(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_all_types(_all_types_rows()))  # v0
    write_deltalake(p, _pa_all_types(_all_types_rows(10)[:3]), mode="append")  # v1
    DeltaTable(p).delete("id = 11")  # v2


def rs_optimize_vacuum(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_simple(range(0, 5)))  # v0
    for v in (1, 2):
        write_deltalake(p, _pa_simple(range(10 * v, 10 * v + 5), f"v{v}"), mode="append")  # v1, v2
    DeltaTable(p).optimize.compact()  # v3
    DeltaTable(p).delete("id = 3")  # v4
    DeltaTable(p).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)  # v5 VACUUM START, v6 VACUUM END


def rs_restore(p):
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(p, _pa_simple(range(0, 8)))  # v0
    write_deltalake(p, _pa_simple(range(8, 12), "v1"), mode="append")  # v1
    DeltaTable(p).delete("id < 4")  # v2
    DeltaTable(p).restore(1)  # v3
    DeltaTable(p).update(predicate="id = 0", updates={"name": "'after restore'"})  # v4


# What the peers do not write, and why (shown in the matrix).
NOT_WRITTEN = {
    ("delta-rs", "checkpoint-multipart"): "delta-rs writes single-file checkpoints only",
    ("delta-rs", "checkpoint-v2"): "delta-rs does not write V2 checkpoints",
    ("delta-rs", "deletion-vectors"): "delta-rs does not write deletion vectors",
    ("delta-rs", "column-mapping-name"): "delta-rs does not write column mapping",
    ("delta-rs", "column-mapping-id"): "delta-rs does not write column mapping",
    ("delta-rs", "in-commit-timestamps"): "delta-rs 1.6.6 refuses the property delta.enableInCommitTimestamps",
    ("delta-rs", "row-tracking"): "delta-rs 1.6.6 refuses the property delta.enableRowTracking",
    ("delta-rs", "liquid-clustering"): "delta-rs does not write clustered tables",
    ("delta-rs", "domain-metadata"): "delta-rs has no API for domain metadata",
    ("delta-rs", "type-widening"): "delta-rs does not change column types",
}

CASES = [
    Case("spark", "default", spark_default),
    Case("spark", "partitions", spark_partitions),
    Case("spark", "checkpoint-classic", spark_checkpoint_classic),
    Case("spark", "checkpoint-multipart", spark_checkpoint_multipart),
    Case("spark", "checkpoint-v2", spark_checkpoint_v2),
    Case("spark", "deletion-vectors", spark_deletion_vectors),
    Case("spark", "column-mapping-name", spark_column_mapping_name),
    Case("spark", "column-mapping-id", spark_column_mapping_id),
    Case("spark", "timestamp-ntz", spark_timestamp_ntz),
    Case("spark", "schema-evolution", spark_schema_evolution),
    Case("spark", "change-data-feed", spark_change_data_feed),
    Case("spark", "in-commit-timestamps", spark_in_commit_timestamps),
    Case("spark", "row-tracking", spark_row_tracking),
    Case("spark", "liquid-clustering", spark_liquid_clustering),
    Case("spark", "domain-metadata", spark_domain_metadata),
    Case("spark", "type-widening", spark_type_widening),
    Case("spark", "all-types", spark_all_types),
    Case("spark", "optimize-vacuum", spark_optimize_vacuum),
    Case("spark", "restore", spark_restore),
    Case("delta-rs", "default", rs_default),
    Case("delta-rs", "partitions", rs_partitions),
    Case("delta-rs", "checkpoint-classic", rs_checkpoint_classic),
    Case("delta-rs", "timestamp-ntz", rs_timestamp_ntz),
    Case("delta-rs", "schema-evolution", rs_schema_evolution),
    Case("delta-rs", "change-data-feed", rs_change_data_feed),
    Case("delta-rs", "all-types", rs_all_types),
    Case("delta-rs", "optimize-vacuum", rs_optimize_vacuum),
    Case("delta-rs", "restore", rs_restore),
]


def build(case, root, spark=None):
    """Write `case`'s table under `root`; its path."""
    path = str(root / f"{case.writer}-{case.feature}")
    if case.writer == "spark":
        case.build(spark, path)
    else:
        case.build(path)
    return path


# What a case's log must show, so that a writer that quietly left a feature out cannot pass for it:
# feature -> (what, a regular expression over the log's commit files joined, or over file names).
EVIDENCE = {
    "partitions": [("partition columns", r'"partitionColumns":\["p_str","p_date","p_ts","p_int"\]'), ("an escaped value", r'"p_str":"a/b"')],
    "checkpoint-classic": [("a classic checkpoint", r"FILE \d{20}\.checkpoint\.parquet")],
    "checkpoint-multipart": [("a multi-part checkpoint", r"FILE \d{20}\.checkpoint\.0000000001\.000000000[2-9]\.parquet")],
    "checkpoint-v2": [("a V2 checkpoint", r"FILE \d{20}\.checkpoint\.[0-9a-f-]{36}\.(json|parquet)"), ("a sidecar", r"FILE _sidecars/[^ ]+\.parquet")],
    "deletion-vectors": [("a deletion vector", r'"deletionVector":\{'), ("a MERGE", r'"operation":"MERGE"')],
    "column-mapping-name": [("mapping by name", r'"delta\.columnMapping\.mode":"name"'), ("a rename", r'"operation":"RENAME COLUMN"'), ("a drop", r'"operation":"DROP COLUMNS"')],
    "column-mapping-id": [("mapping by id", r'"delta\.columnMapping\.mode":"id"'), ("a rename", r'"operation":"RENAME COLUMN"'), ("a drop", r'"operation":"DROP COLUMNS"')],
    "timestamp-ntz": [("a timestamp_ntz column", r'timestamp_ntz')],
    "schema-evolution": [("a second schema", r'"metaData".*\n(.*\n)*.*"metaData"')],
    "change-data-feed": [("a cdc file", r'"cdc":\{')],
    "in-commit-timestamps": [("an in-commit timestamp", r'"inCommitTimestamp":\d+')],
    "row-tracking": [("row ids", r'"baseRowId":\d+')],
    "liquid-clustering": [("clustering domain metadata", r'"domain":"delta\.clustering"')],
    "domain-metadata": [("the domainMetadata feature", r'"writerFeatures":\[[^\]]*"domainMetadata"')],
    "type-widening": [("a type change", r'delta\.typeChanges')],
    "optimize-vacuum": [("an OPTIMIZE", r'"operation":"OPTIMIZE"'), ("a VACUUM", r'"operation":"VACUUM END"')],
    "restore": [("a RESTORE", r'"operation":"RESTORE"')],
}


def missing_evidence(case, path):
    """What EVIDENCE asks of `case` that its table at `path` does not show."""
    import re
    from pathlib import Path

    log = Path(path) / "_delta_log"
    text = "\n".join(p.read_text() for p in sorted(log.glob("*.json")))
    text += "\n" + "\n".join(f"FILE {p.relative_to(log).as_posix()}" for p in sorted(log.rglob("*")) if p.is_file())
    return [what for what, pattern in EVIDENCE.get(case.feature, []) if not re.search(pattern, text)]
