"""The agent: each user's daily plan at their hour, replanning on change, and the chat.

    planning_time  local planning time → UTC instant (DST: gap and fold handled deliberately)
    dispatch       the scheduler tick: due tenants (indexed next_plan_at), one named task per local day
    queueing       planning task names and bodies (daily-{date}, replan-{date}-{HHMM})
    planning_job   load → plan (shared.planning) → write to Notion → record → notify
    plans          plans/{date}: the stored plan, its Notion page id, content hash, input fingerprints
    scheduled      agent/scheduled: what the planner wrote into tasks' Scheduled property
    plan_page      the "Daily plan" page: content, find-or-create, replace blocks
    replan         the sync's hook: replan the rest of today when a change matters
    notify         the user's HTTPS notification webhook, SSRF-safe (vetted, pinned address)
    workload       the stored tasks and routines
    tools          the chat's tools over the tenant's data (search, create, update, complete, plan)
    conversation   the chat history: agent state per conversation, older turns summarised
    chat           the bounded tool-calling loop
    errors         this package's exception family

Submodules are imported where used (nothing here), so the dispatcher never loads the engine, the
LLM adapters or the memory.
"""
