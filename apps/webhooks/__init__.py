"""Webhooks (SPEC §5): developers' endpoints for the events of their apps.

- ``services``: create / delete / ping, firing from activity events, delivering with retries;
- ``selectors``: the reads the API, admin and portal share;
- ``secrets``: the signing secret (generated, encrypted at rest, HMAC signature);
- ``addresses`` and ``transport``: the SSRF guard and the HTTP request pinned to the address it checked;
- ``payloads``: the JSON body of each event.
"""
