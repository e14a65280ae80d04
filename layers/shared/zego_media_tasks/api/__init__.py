"""The read API: HTTP routes over the task records, registration, listing and the OpenAPI contract.

- ``models``: the JSON representations (pydantic, camelCase), request and response.
- ``errors``: typed exceptions; ``routes`` maps each type to one status code and one handler.
- ``pagination``: the opaque, tamper-evident ``nextToken``.
- ``conditional``: ETag, ``If-None-Match`` and ``Cache-Control`` rules.
- ``request_body``: reading the ``POST /tasks`` body (content type, size, JSON, fields).
- ``settings``: the function's environment, validated at cold start.
- ``service``: reads and registration, free of HTTP.
- ``routes``: the Powertools ``APIGatewayRestResolver``.
- ``telemetry``: what the function reports (cold start, a count per response class), as plain data.
- ``openapi``: the generated OpenAPI document (``python -m zego_media_tasks.api.openapi``).
"""
