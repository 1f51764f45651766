"""The Celery app of `spymaster worker` (`celery -A spymaster_assets.celery_app worker`).

It registers dagster-celery's step task with the broker settings of `cluster.celery_settings`,
so workers and runs agree on the broker, the queue and the acknowledgement rules. Importing it
loads no definitions: a worker loads them when its first step arrives, in the pool process.
"""

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from spymaster_assets.cluster import celery_settings

app = make_app(CeleryExecutor.for_cli(**celery_settings()).app_args())
execute_plan = create_task(app)
