"""Notion → tenant data: signed webhooks, per-tenant sync jobs, the periodic reconcile.

    signature     X-Notion-Signature (HMAC-SHA256 of the raw body, constant-time check)
    verification  Notion's one-time verification token: where it is kept and read from
    events        the webhook payload model and what each event means for a tenant
    webhook       the intake: verify, parse, route, filter, deduplicate, coalesce (no Notion calls)
    schedule      named sync tasks: one per tenant per window; one reconcile per tenant per period
    state         cursors per data source, dirty marks, page deletions learnt from webhooks
    fetch         incremental / full reads of a data source (one query per 100 changed rows)
    memory_docs   the text and metadata the memory keeps for a task or a routine
    job           the sync job: Notion → document store + memory, idempotent, cursor last
    reconcile     the scheduler's dispatch: one full-sync task per connected tenant
    errors        this package's exception family

Submodules are imported where used (nothing here), so the webhook path never loads the memory.
"""
