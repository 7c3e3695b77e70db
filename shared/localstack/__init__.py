"""The local stack: every function, the task dispatcher and the scheduler tick on one laptop.

``python -m shared.localstack`` (or ``./deploy.sh local``) starts the four functions under
functions-framework on localhost with the ``local`` profile (SQLite, a folder, the SQLite task queue,
env/file secrets under ``.local/``), dispatches queued tasks to them the way Cloud Tasks would, and
fires the Cloud Scheduler jobs declared in ``infra/scheduler.json``. No cloud account, no network.
Not shipped in any function bundle.
"""
