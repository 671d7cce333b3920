"""Set the table stream's event filter on the stream function's event source mapping (after `chalice deploy`).

Chalice creates the mapping (`@app.on_dynamodb_record`) but cannot declare Lambda event filtering, so this
command sets FilterCriteria to chalicelib/workers/stream.py FILTER_PATTERNS: records no part of the handler
reads (logins, uploads being made or used, audit events, the handler's own writes) then never invoke it.
Idempotent; run it after each `chalice deploy` (docs/operations.md 1.7). Operator credentials:
lambda:ListEventSourceMappings and lambda:UpdateEventSourceMapping.
"""

from __future__ import annotations

from typing import Any

from chalicelib.workers.stream import filter_criteria

FUNCTION = "on_table_stream"


def function_name(stage: str, app_name: str = "balai") -> str:
    """The name Chalice gives the stream function: {app}-{stage}-{handler}."""
    return f"{app_name}-{stage}-{FUNCTION}"


def apply(client: Any, function: str, stream_arn: str | None = None) -> list[str]:
    """Set the filter on every mapping of `function` (only the one reading `stream_arn` when given); returns the
    UUIDs of the mappings updated. Raises LookupError when the function has no such mapping."""
    criteria = filter_criteria()
    updated = []
    marker = None
    while True:
        page = client.list_event_source_mappings(FunctionName=function, **({"Marker": marker} if marker else {}))
        for mapping in page.get("EventSourceMappings", []):
            if stream_arn and mapping.get("EventSourceArn") != stream_arn:
                continue
            if mapping.get("FilterCriteria") != criteria:
                client.update_event_source_mapping(UUID=mapping["UUID"], FilterCriteria=criteria)
            updated.append(str(mapping["UUID"]))
        marker = page.get("NextMarker")
        if not marker:
            break
    if not updated:
        raise LookupError(f"no event source mapping of {function}" + (f" on {stream_arn}" if stream_arn else ""))
    return updated
