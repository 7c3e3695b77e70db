"""The web dashboard's logic, kept out of ``functions/web/main.py`` so the function stays thin.

    errors      the dashboard's error family
    security    response headers every dashboard response carries (CSP without external sources)
    paths       the base path of the public URL (``/web``), put in front of every link and redirect
    render      Jinja2 pages (with ``u('/route')`` and ``base``) and the versioned static files
    http        page/API handler wrappers, redirects, the signed-in visitor
    forms       form bodies (pydantic) and the messages shown next to a field
    charts      bar charts rendered as inline SVG on the server (no script, no CDN)
    usage_view  the usage summary turned into chart series and quota meters
    timezones   the IANA zones offered by the timezone select
    onboarding  the wizard's progress (``dashboard/onboarding``) and its steps
    workspace   what onboarding reads and creates in the user's Notion workspace
    starter     the example tasks and routines onboarding can add to new databases
    items       a tenant's tasks and routines, from the synced copy or straight from Notion
    today       today's plan for display: the stored plan, else a live preview
    feedback    feedback messages stored per tenant (``feedback/{id}``)
"""
