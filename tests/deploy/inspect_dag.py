"""Reads the Airflow DAG file without Airflow (not installed here).

Usage: python3 inspect_dag.py DAG_FILE CASES_JSON

Prints JSON: ``ast`` (what the source says, read with Python's ``ast``:
DAG calls, BashOperator task ids, ``a >> b`` edges), ``run`` (what the
module defines when executed against small stand-ins for ``airflow`` and
``pendulum`` that record their arguments) and ``rendered`` (each task's
``bash_command`` rendered with Jinja, as Airflow renders it, for each case
``{"data_interval_end": ISO, "reporting_date": STR}``; null when Jinja is
missing). Used by tests/deploy/deploy_test.ts.
"""

import ast
import datetime as dt
import json
import sys
import types


def call_name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def literal_kwargs(call):
    out = {}
    for kw in call.keywords:
        if kw.arg is None:
            continue
        try:
            out[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            out[kw.arg] = None
    return out


def read_ast(source, path):
    tree = ast.parse(source, path)
    dags, tasks, edges = [], [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node.func) == "DAG":
            dags.append(literal_kwargs(node))
        if isinstance(node, ast.Call) and call_name(node.func) == "BashOperator":
            kwargs = literal_kwargs(node)
            tasks.append({
                "task_id": kwargs.get("task_id"),
                "keywords": [kw.arg for kw in node.keywords],
            })
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            if isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name):
                edges.append([node.left.id, node.right.id])
    return {"dags": dags, "tasks": tasks, "edges": edges}


def run_with_stand_ins(source, path):
    recorded = {"dags": [], "tasks": {}, "edges": []}

    class DAG:
        def __init__(self, **kwargs):
            recorded["dags"].append(kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class BashOperator:
        def __init__(self, task_id, **kwargs):
            self.task_id = task_id
            recorded["tasks"][task_id] = kwargs

        def __rshift__(self, other):
            recorded["edges"].append([self.task_id, other.task_id])
            return other

    class Param:
        def __init__(self, default=None, **kwargs):
            self.default = default
            self.kwargs = kwargs

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    module("airflow", DAG=DAG)
    module("airflow.models")
    module("airflow.models.param", Param=Param)
    module("airflow.providers")
    module("airflow.providers.standard")
    module("airflow.providers.standard.operators")
    module("airflow.providers.standard.operators.bash", BashOperator=BashOperator)
    module(
        "pendulum",
        datetime=lambda *a, tz="UTC": dt.datetime(*a, tzinfo=dt.timezone.utc),
    )
    exec(compile(source, path, "exec"), {"__name__": "dag_under_test"})

    def plain(value):
        if isinstance(value, dt.timedelta):
            return {"seconds": value.total_seconds()}
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, Param):
            return {"default": value.default, **value.kwargs}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(recorded)


def render(commands, cases):
    try:
        import jinja2
    except ImportError:
        return None

    class Macros:  # Airflow's macros.ds_add
        @staticmethod
        def ds_add(ds, days):
            day = dt.datetime.strptime(ds, "%Y-%m-%d") + dt.timedelta(days=days)
            return day.strftime("%Y-%m-%d")

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    out = []
    for case in cases:
        context = {
            "params": {"reporting_date": case["reporting_date"]},
            "macros": Macros,
            "data_interval_end": dt.datetime.fromisoformat(case["data_interval_end"]),
        }
        out.append({tid: env.from_string(cmd).render(**context) for tid, cmd in commands.items()})
    return out


def main():
    path, cases = sys.argv[1], json.loads(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        source = f.read()
    syntax = read_ast(source, path)
    run = run_with_stand_ins(source, path)
    commands = {tid: t["bash_command"] for tid, t in run["tasks"].items()}
    print(json.dumps({"ast": syntax, "run": run, "rendered": render(commands, cases)}))


main()
