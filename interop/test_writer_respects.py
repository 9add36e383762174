"""Their tables, our writer: Spark creates a table with each writer feature, `cli append` adds rows
to it. Where this writer implements the feature the rows land and Spark (and delta-rs) read them,
Spark's own checks still pass and Spark writes on after us; where it does not, the append is
refused with a sentence naming the table, the version and the feature, and nothing is written."""
import pyarrow as pa
import pytest

from conftest import cli
from writer_support import commit, files_of, latest_version, our_rows, rs_rows, spark_rows, write_parquet

ID_NAME = pa.schema([("id", pa.int64()), ("name", pa.string())])


@pytest.fixture
def make(spark, tmp_path):
    """A table Spark creates with `ddl` (columns id BIGINT, name STRING unless given) and fills with two rows."""

    def make(name, ddl_tail="", columns="id BIGINT, name STRING", insert="INSERT INTO {t} (id, name) VALUES (1, 'a'), (2, 'b')"):
        path = tmp_path / name
        t = f"delta.`{path}`"
        spark.sql(f"CREATE TABLE {t} ({columns}) USING delta {ddl_tail}")
        spark.sql(insert.format(t=t))
        return path, t

    return make


@pytest.fixture
def rows_file(tmp_path):
    def rows_file(rows, name="ours.parquet", schema=ID_NAME):
        return write_parquet(tmp_path / name, rows, schema)

    return rows_file


OURS = [{"id": 100, "name": "ours-1"}, {"id": 101, "name": "ours-2"}]


def append(path, file):
    out = cli("append", path, file).stdout
    version = latest_version(path)
    assert out == f"version {version}: appended {2} rows in 1 file to {path}\n"
    return version


def refused(path, file, version, reason):
    before = files_of(path)
    proc = cli("append", path, file, check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"error: cannot append to {path} at version {version}: {reason}\n"
    assert files_of(path) == before


def all_read_the_same(spark, path):
    ours = our_rows(path)
    assert spark_rows(spark, path) == ours
    assert rs_rows(path) == ours
    return ours


def test_append_only(spark, make, rows_file):
    path, t = make("append_only", "TBLPROPERTIES ('delta.appendOnly' = 'true')")
    v = append(path, rows_file(OURS))
    assert {r["id"] for r in all_read_the_same(spark, path)} == {1, 2, 100, 101}
    history = spark.sql(f"DESCRIBE HISTORY {t}").collect()
    ours = next(h for h in history if h.version == v)
    assert (ours.operation, ours.engineInfo) == ("WRITE", "creatorops-lakehouse/0.1 (delta-ts)")
    spark.sql(f"INSERT INTO {t} VALUES (3, 'c')")
    with pytest.raises(Exception, match="DELTA_CANNOT_MODIFY_APPEND_ONLY|append-only"):
        spark.sql(f"DELETE FROM {t} WHERE id = 100")
    assert len(spark_rows(spark, path)) == 5


def test_check_constraint(spark, make, rows_file):
    path, t = make("check")
    spark.sql(f"ALTER TABLE {t} ADD CONSTRAINT positive CHECK (id > 0)")
    refused(path, rows_file([{"id": 5, "name": "x"}, {"id": -1, "name": "y"}], "bad.parquet"), 2,
            '1 of 2 rows violates the CHECK constraint "positive" (id > 0), so nothing was written')
    v = append(path, rows_file(OURS))
    assert v == 3
    # Spark validates every row, ours included, when it adds a constraint.
    spark.sql(f"ALTER TABLE {t} ADD CONSTRAINT short_name CHECK (length(name) < 10)")
    spark.sql(f"INSERT INTO {t} VALUES (3, 'c')")
    assert {r["id"] for r in all_read_the_same(spark, path)} == {1, 2, 3, 100, 101}


def test_check_constraint_it_cannot_evaluate(spark, make, rows_file):
    path, t = make("check_rlike")
    spark.sql(f"ALTER TABLE {t} ADD CONSTRAINT lower_name CHECK (name RLIKE '^[a-z]+$')")
    refused(path, rows_file(OURS), 2,
            'the CHECK constraint "lower_name" (name RLIKE \'^[a-z]+$\') cannot be checked by this writer '
            '(writer feature "checkConstraints"): unexpected "RLIKE"')


def test_not_null(spark, make, rows_file):
    path, t = make("not_null", columns="id BIGINT NOT NULL, name STRING")
    refused(path, rows_file([{"id": None, "name": "x"}], "null.parquet"), 1,
            "1 of 1 row violates the NOT NULL constraint of column id, so nothing was written")
    append(path, rows_file(OURS))
    spark.sql(f"INSERT INTO {t} VALUES (3, NULL)")
    assert {r["id"] for r in all_read_the_same(spark, path)} == {1, 2, 3, 100, 101}


def test_generated_column(make, rows_file):
    path, _ = make("generated", columns="id BIGINT, twice BIGINT GENERATED ALWAYS AS (id * 2)", insert="INSERT INTO {t} (id) VALUES (1), (2)")
    refused(path, rows_file([{"id": 7}], schema=pa.schema([("id", pa.int64())])), 1,
            'column twice is generated as "id * 2" (writer feature "generatedColumns"), and this writer does not compute generated columns')


def test_identity_column(make, rows_file):
    path, _ = make("identity", columns="id BIGINT GENERATED ALWAYS AS IDENTITY, name STRING", insert="INSERT INTO {t} (name) VALUES ('a'), ('b')")
    refused(path, rows_file(OURS), 1,
            'column id is an identity column (writer feature "identityColumns"), and this writer does not assign identity values')


def test_in_commit_timestamps(spark, make, rows_file):
    path, t = make("ict", "TBLPROPERTIES ('delta.enableInCommitTimestamps' = 'true')")
    v = append(path, rows_file(OURS))
    first = commit(path, v)[0]
    assert list(first) == ["commitInfo"]
    assert first["commitInfo"]["inCommitTimestamp"] > commit(path, v - 1)[0]["commitInfo"]["inCommitTimestamp"]
    spark.sql(f"INSERT INTO {t} VALUES (3, 'c')")
    assert commit(path, v + 1)[0]["commitInfo"]["inCommitTimestamp"] > first["commitInfo"]["inCommitTimestamp"]
    history = sorted(spark.sql(f"DESCRIBE HISTORY {t}").collect(), key=lambda h: h.version)
    stamps = [h.timestamp for h in history]
    assert [h.version for h in history] == [0, 1, 2, 3]
    assert all(a < b for a, b in zip(stamps, stamps[1:]))
    all_read_the_same(spark, path)


def test_row_tracking(spark, make, rows_file):
    path, t = make("row_tracking", "TBLPROPERTIES ('delta.enableRowTracking' = 'true')")
    v = append(path, rows_file(OURS))
    spark.sql(f"INSERT INTO {t} SELECT /*+ COALESCE(1) */ * FROM VALUES (3, 'c'), (4, 'd')")
    rows = spark.sql(f"SELECT id, _metadata.row_id AS row_id, _metadata.row_commit_version AS cv FROM {t}").collect()
    assert len(rows) == 6
    assert len({r.row_id for r in rows}) == 6
    assert sorted(r.cv for r in rows if r.id >= 100) == [v, v]
    assert sorted(r.row_id for r in rows if r.id >= 100) == [2, 3]
    marks = [a["domainMetadata"] for a in commit(path, v) if "domainMetadata" in a]
    assert [(m["domain"], m["removed"]) for m in marks] == [("delta.rowTracking", False)]
    all_read_the_same(spark, path)


def test_deletion_vectors_enabled(spark, make, rows_file):
    """A table with deletion vectors on: Spark deletes through a vector, we append, all three read the same rows."""
    path, t = make("dv", "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    spark.sql(f"INSERT INTO {t} SELECT /*+ COALESCE(1) */ * FROM VALUES (3, 'c'), (4, 'd')")
    spark.sql(f"DELETE FROM {t} WHERE id = 3")
    assert any("deletionVector" in a.get("add", {}) for a in commit(path, latest_version(path)))
    append(path, rows_file(OURS))
    assert {r["id"] for r in all_read_the_same(spark, path)} == {1, 2, 4, 100, 101}


def test_change_data_feed(spark, make, rows_file):
    path, t = make("cdf", "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
    v = append(path, rows_file(OURS))
    changes = (spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", v).option("endingVersion", v)
               .load(str(path)).collect())
    assert sorted((c.id, c.name, c._change_type, c._commit_version) for c in changes) == [(100, "ours-1", "insert", v), (101, "ours-2", "insert", v)]
    spark.sql(f"UPDATE {t} SET name = 'renamed' WHERE id = 100")
    assert {r["name"] for r in all_read_the_same(spark, path)} == {"a", "b", "renamed", "ours-2"}


def test_clustering(spark, make, rows_file):
    path, t = make("clustered", "CLUSTER BY (id)")
    v = append(path, rows_file(OURS))
    add = next(a["add"] for a in commit(path, v) if "add" in a)
    assert "clusteringProvider" not in add
    spark.sql(f"OPTIMIZE {t}")
    assert {r["id"] for r in all_read_the_same(spark, path)} == {1, 2, 100, 101}
