"""The cold-start baseline: the smallest functions-framework HTTP function."""

import functions_framework


@functions_framework.http
def hello(request):
    return "ok"
