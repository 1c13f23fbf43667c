"""Every AWS client of ours comes from here: one session per process, one client at a time.

A botocore session loads the endpoint and partition data once for all the clients made from
it, so each client after the first costs a cold start about 55 ms less; the session is
boto3's default one. botocore does not make clients safely from two threads at once (a hook
makes its clients in its worker thread, a Connect call in another), hence the lock.
"""

from __future__ import annotations

import threading
from typing import Any

_one_at_a_time = threading.Lock()


def client(service: str, **options: Any) -> Any:
    """boto3's client for `service`, with `options` as `boto3.client` takes them."""
    import boto3  # here: importing this module costs a hook nothing until it needs AWS

    with _one_at_a_time:
        return boto3.client(service, **options)  # type: ignore[call-overload]
