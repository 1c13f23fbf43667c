"""Callbacks' adapter other than its table: an attempt dialled through the outbound core."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.callbacks import model
from chalicelib.callbacks.model import CALLBACK_FLOW, Callback
from chalicelib.outbound.connect import ConnectOutbound
from chalicelib.outbound.model import DialNotPlacedError, OutboundCall
from chalicelib.outbound.service import Commit


class ConnectDialer:
    """The callbacks' Dialer: a callback attempt as an outbound call."""

    def __init__(
        self,
        outbound: ConnectOutbound,
        flow_ids: Mapping[str, str],
        queue_ids: Mapping[str, str],
        owner: str,
    ):
        self.outbound, self.flow_ids, self.queue_ids = outbound, flow_ids, queue_ids
        self.owner = owner

    def dial(self, callback: Callback, commit: Commit) -> str:
        flow_id = self.flow_ids.get(CALLBACK_FLOW)
        if not flow_id:  # the flows are not deployed yet: the callback waits, nothing is lost
            raise DialNotPlacedError(f"no contact flow id for {CALLBACK_FLOW!r}")
        return self.outbound.start(
            OutboundCall(
                number=callback.number,
                flow_id=flow_id,
                queue_id=self.queue_ids[callback.queue],
                token=callback.attempt.token,
                attributes={
                    "callback_id": callback.callback_id,
                    "callback_attempt": str(callback.attempt.ordinal),
                    "journey": callback.journey[:1000],
                },
                owner=self.owner,
                ref=callback.callback_id,
                attempt=callback.attempt.ordinal,
                name=model.contact_name(callback),
            ),
            commit,
        )
