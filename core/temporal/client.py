"""The one way Saku connects to Temporal, and the one-time namespace/search-attribute setup."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
    ListSearchAttributesResponse,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    DescribeTaskQueueRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from core.temporal import search_attributes
from core.temporal.codec import data_converter, payload_keys
from core.temporal.interceptors import CorrelationInterceptor
from core.temporal.payload_keys import PayloadKeys

log = logging.getLogger(__name__)

NAMESPACE_RETENTION = timedelta(days=30)


def converter_for(settings: Settings) -> DataConverter:
    """How payloads become bytes, for clients, workers and the replay of archived histories
    alike: JSON, sealed with the payload keys the settings name (`core.temporal.codec`)."""
    return data_converter(payload_keys_for(settings))


def payload_keys_for(settings: Settings) -> PayloadKeys:
    secret = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    return payload_keys(settings.resolved_payload_key_file(), secret)


async def connect_client(
    address: str,
    namespace: str,
    *,
    converter: DataConverter | None = None,
    with_interceptors: bool = True,
) -> Client:
    """A client; without a converter it reads and writes plaintext payloads only (enough for
    health checks and namespace set-up, which carry none)."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=converter or data_converter(None),
        interceptors=[CorrelationInterceptor()] if with_interceptors else [],
    )


async def connect(settings: Settings) -> Client:
    return await connect_client(
        settings.resolved_temporal_address(),
        settings.temporal_namespace,
        converter=converter_for(settings),
    )


async def workflow_pollers(client: Client, task_queue: str) -> int:
    """How many workers polled `task_queue` for workflow tasks lately (the server forgets a
    poller a few minutes after its last poll): 0 means a workflow started there waits."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(response.pollers)


async def ensure_namespace_and_search_attributes(client: Client) -> list[str]:
    """Register the namespace and any missing search attributes; returns what was added.

    Idempotent. The dev server's --search-attribute flag only applies when its database is
    first created, and a production cluster has none, so this is the one place it happens.
    """
    namespace = client.namespace
    added: list[str] = []
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace,
                workflow_execution_retention_period=_duration(NAMESPACE_RETENTION),
            )
        )
        added.append(f"namespace {namespace}")
    existing = await _list_search_attributes(client)
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in search_attributes.ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
        added.extend(f"search attribute {name}" for name in missing)
    if added:
        log.info("temporal setup", extra={"added": added})
    return added


async def _list_search_attributes(client: Client) -> ListSearchAttributesResponse:
    # A namespace registered just now becomes visible only once the server's namespace
    # cache refreshes (up to ~10 s), so NOT_FOUND is retried for a while.
    request = ListSearchAttributesRequest(namespace=client.namespace)
    for _ in range(60):
        try:
            return await client.operator_service.list_search_attributes(request)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.5)
    return await client.operator_service.list_search_attributes(request)


def _duration(value: timedelta) -> Duration:
    duration = Duration()
    duration.FromTimedelta(value)
    return duration
