"""The IFRS 9 quarter-end close as an Airflow DAG.

Airflow schedules and retries; the project's own command does the work.
Each task calls `deno task` in the project's checkout on the worker
(``IFRS9_HOME``, default ``/opt/ifrs9``, with Deno on the PATH and
``deno install --frozen`` run there):

* ``check_inputs``: the checkout, Deno and the close configuration are in
  place (a plain check instead of a sensor: a missing checkout fails in
  seconds, not after the close has queued);
* ``close``: ``deno task close --config config/close.yaml --date DATE``,
  the whole chain (validate, one run per entity, movement,
  exports, dashboard). A retry reruns the same command, which skips every
  step already finished (``close.json`` says which) and resumes at the one
  that failed.

The close runs up to the quarter-end just closed (the day before the end
of the run's data interval: the run of 1 April 06:00 closes up to 31
March), or up to the ``reporting_date`` parameter of a manually triggered
run; that date must be one of the close file's ``dates`` (else the close
exits 2, naming it). The schedule is the Kubernetes CronJob's and the
systemd timer's (deploy/README.md).

Written for Airflow 2.7 or later (``sla`` is an Airflow 2 feature; Airflow
3 drops it in favour of deadline alerts).
"""

from __future__ import annotations

import os
import shlex
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.models.param import Param

try:  # Airflow 2.9+ (and 3): the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # earlier Airflow 2
    from airflow.operators.bash import BashOperator

IFRS9_HOME = os.environ.get("IFRS9_HOME", "/opt/ifrs9")
CLOSE_CONFIG = "config/close.yaml"
CLOSE_OUT = "data/close"

# The quarter-end the run closes: the parameter when given, else the day
# before the data interval's end (the schedule fires on the first day of a
# quarter, so that day is the quarter's last).
REPORTING_DATE = (
    "{{ params.reporting_date or "
    "macros.ds_add(data_interval_end.strftime('%Y-%m-%d'), -1) }}"
)

CD = f"cd {shlex.quote(IFRS9_HOME)}"

default_args = {
    "owner": "credit-risk",
    # A failed close is rerun twice, 15 minutes apart; each rerun resumes.
    "retries": 2,
    "retry_delay": timedelta(minutes=15),
    # One attempt's time budget; the whole close is due 8 hours after the
    # scheduled time (Airflow 2 SLA miss).
    "execution_timeout": timedelta(hours=6),
    "sla": timedelta(hours=8),
}

with DAG(
    dag_id="ifrs9_quarter_end_close",
    description="IFRS 9 quarter-end close: deno task close",
    schedule="0 6 1 1,4,7,10 *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={
        "reporting_date": Param(
            "",
            type="string",
            pattern=r"^(\d{4}-\d{2}-\d{2})?$",
            description="YYYY-MM-DD to close another quarter; empty: the quarter just ended",
        ),
    },
    tags=["ifrs9", "quarter-end"],
) as dag:
    check_inputs = BashOperator(
        task_id="check_inputs",
        bash_command=(
            f"{CD} && test -r {CLOSE_CONFIG} && deno --version"
            " && deno task close --help > /dev/null"
        ),
        retries=0,
    )

    close = BashOperator(
        task_id="close",
        bash_command=(
            f"{CD} && exec deno task close --config {CLOSE_CONFIG}"
            f' --date "{REPORTING_DATE}" --out {CLOSE_OUT}'
        ),
        env={"NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1"},
        append_env=True,
    )

    check_inputs >> close
