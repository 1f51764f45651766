"""Steps on Celery workers (dagster-celery, Redis broker) when SPYMASTER_CELERY_BROKER is set.

The run's orchestrator (a process of the daemon, or `spymaster materialize`) sends each step to
the broker; a worker started by `spymaster worker` loads the definitions from the installed
package, runs the step and writes its events to the instance's PostgreSQL. Workers share
nothing else with the daemon: the data folder is the bucket, named by SPYMASTER_DATA_DIR.

A worker that dies mid-step does not acknowledge its task (acks late), so the broker gives the
task to another worker once the visibility timeout has passed; the step runs again from its
start, and, as every output is written whole and is a function of its inputs only, it writes
the same bytes. The timeout must be longer than the longest step, or a step still running is
handed out a second time (docs/deploy.md).
"""

from __future__ import annotations

import os

BROKER_ENV = "SPYMASTER_CELERY_BROKER"
BACKEND_ENV = "SPYMASTER_CELERY_BACKEND"
VISIBILITY_ENV = "SPYMASTER_CELERY_VISIBILITY_TIMEOUT_S"
DEFAULT_VISIBILITY_S = 3600
QUEUE = "dagster"  # dagster-celery routes every step task to this queue


def broker_url() -> str | None:
    return os.environ.get(BROKER_ENV) or None


def redacted(url: str) -> str:
    """The URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def celery_settings() -> dict:
    """The dagster-celery executor configuration, the same for the runs and the workers."""
    broker = broker_url()
    if not broker:
        raise RuntimeError(f"{BROKER_ENV} is not set (e.g. redis://127.0.0.1:6379/0)")
    visibility = float(os.environ.get(VISIBILITY_ENV) or DEFAULT_VISIBILITY_S)
    return {
        "broker": broker,
        "backend": os.environ.get(BACKEND_ENV) or broker,
        "config_source": {
            # acknowledged once the step is done: a task of a worker that died is given again
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,  # a worker holds only the step it runs
            "broker_transport_options": {
                "visibility_timeout": visibility,
                # look for abandoned tasks every second rather than every 100 s
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            },
            "result_expires": 7 * 24 * 3600,
            "broker_connection_retry_on_startup": True,
        },
    }


def step_executor():
    """The Celery executor when a broker is configured, else None (steps in the run's process)."""
    if not broker_url():
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_settings(), name="spymaster_celery")
