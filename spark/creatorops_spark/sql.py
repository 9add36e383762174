"""The project's SQL (written for DuckDB) translated to Spark SQL with sqlglot, never copied by hand.
The one function sqlglot maps to a name Spark does not take as a plain aggregate is DuckDB's
continuous quantile: Spark's exact `percentile` interpolates the same way. A CTE's
`[NOT] MATERIALIZED` is DuckDB's memory hint, which Spark's grammar does not have: it is dropped."""
import sqlglot
from sqlglot import exp


def _percentile(node):
    if isinstance(node, (exp.PercentileCont, exp.Quantile)):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


def to_spark(sql: str, what: str) -> str:
    """`sql` (DuckDB) as Spark SQL; `what` names it in errors."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise ValueError(f"{what}: sqlglot cannot parse it as DuckDB SQL: {e}") from e
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise ValueError(f"{what}: expected one SQL statement, found {len(trees)}")
    return trees[0].transform(_percentile).sql(dialect="spark")


def expression_to_spark(expr: str, what: str) -> str:
    """A SQL boolean expression (DuckDB) as Spark SQL."""
    try:
        tree = sqlglot.parse_one(expr, read="duckdb", into=exp.Condition)
    except sqlglot.errors.ParseError as e:
        raise ValueError(f"{what}: sqlglot cannot parse it as a DuckDB SQL expression: {e}") from e
    return tree.transform(_percentile).sql(dialect="spark")
