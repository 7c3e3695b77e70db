"""A tenant's connection to Notion: OAuth with Notion, the tenant record, encrypted rotating tokens.

    oauth_client  the Notion OAuth endpoints (authlib's httpx client, JSON bodies, HTTP Basic)
    tenants       the tenant record and its configuration in the document store
    tokens        the encrypted token pair and the refresh-under-lease token provider
    signin        the sign-in / disconnect / export / delete flows the oauth function calls
"""
