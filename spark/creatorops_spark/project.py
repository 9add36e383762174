"""The project's definitions the runner reads (one definition of each rule): the event contract,
the expectations and the gold models, from the repository's contracts/ and sql/ folders."""
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .sql import expression_to_spark, to_spark

ACTIONS = ("warn", "drop", "fail")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


class ProjectError(ValueError):
    pass


@dataclass
class Expectation:
    name: str
    expr: str  # as written (DuckDB), quoted in reject messages
    action: str
    spark_expr: str


@dataclass
class Project:
    root: Path
    schema: dict
    expectations: list
    gold_sql: dict  # table name -> Spark SQL, in file-name order


def load(root) -> Project:
    root = Path(root)
    schema_path = root / "contracts" / "event_schema.json"
    exp_path = root / "contracts" / "expectations.yml"
    gold_dir = root / "sql" / "gold"
    for p in (schema_path, exp_path, gold_dir):
        if not p.exists():
            raise ProjectError(f"{p} is missing: --project must be the CreatorOps repository (it holds contracts/ and sql/)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    gold = {p.stem: to_spark(p.read_text(encoding="utf-8"), f"sql/gold/{p.name}") for p in sorted(gold_dir.glob("*.sql"))}
    if not gold:
        raise ProjectError(f"{gold_dir} holds no .sql model")
    return Project(root, schema, parse_expectations(exp_path.read_text(encoding="utf-8"), "contracts/expectations.yml"), gold)


def parse_expectations(text: str, source: str) -> list:
    """The expectations file: a list of {name, expr, action}. src/pipeline/expectations.ts reads a
    subset of YAML that any YAML parser reads alike; this reads it with PyYAML and checks the same rules."""
    try:
        items = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProjectError(f"{source}: not valid YAML: {e}") from e
    if not isinstance(items, list):
        raise ProjectError(f"{source}: expected a list of expectations")
    out, seen = [], set()
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) != {"name", "expr", "action"}:
            raise ProjectError(f"{source}: expectation {i} must have exactly name, expr and action")
        name, expr, action = (str(item[k]) for k in ("name", "expr", "action"))
        if not _NAME.match(name):
            raise ProjectError(f"{source}: name {name!r} must be lowercase letters, digits and _ (at most 64)")
        if name in seen:
            raise ProjectError(f'{source}: duplicate name "{name}"')
        if action not in ACTIONS:
            raise ProjectError(f'{source}: unknown action "{action}" (expected warn, drop or fail)')
        seen.add(name)
        out.append(Expectation(name, expr, action, expression_to_spark(expr, f"expectation {name}")))
    return out
