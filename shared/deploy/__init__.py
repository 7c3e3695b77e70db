"""Deployment to Google Cloud: infra/*.json → function bundles and an ordered, idempotent list of
gcloud commands (``python -m shared.deploy plan|apply|bundle``; ``deploy.sh gcp`` calls it).

Not part of any function bundle. Standard library only (plus shared.errors and, for functions that
embed, shared.memory.model_files to find the model files), so it runs wherever the repository is.

    infra.py        infra/*.json read and cross-checked           context.py   project/region + placeholders
    requirements.py a function's requirements, pinned             bundle.py    build/bundles/<fn>/
    commands.py     Command, Probe, Step, Gate, Deferred, Plan   plan.py      infra → ordered plan
    resources/      one module per kind of resource               runner.py    run (or print) a plan
    cli.py          the command line                              errors.py    errors and exit codes
"""
