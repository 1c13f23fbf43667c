"""What the flow language allows: action types, their error branches, and where they may run.

Facts from the Amazon Connect flow-language reference (APIReference/flow-language-actions and
its four lists: contact, flow-control, interaction and participant actions, checked again for
issue 9) and real exports; see ../shared/reference/connect-contract.md §1. Action types that
real exports use but the reference does not list yet (CreateContact,
StartOutboundEmailContact, AuthenticateParticipant) are left out on purpose: the validator
warns that it does not check them. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping

INBOUND_AND_TRANSFER = frozenset({"CONTACT_FLOW", "AGENT_TRANSFER", "QUEUE_TRANSFER", "MODULE"})
WHISPER_AND_HOLD = frozenset(
    {
        "CUSTOMER_WHISPER",
        "AGENT_WHISPER",
        "OUTBOUND_WHISPER",
        "CUSTOMER_HOLD",
        "AGENT_HOLD",
    }
)

# Error types each action can raise in Connect. An empty tuple: the action has no error path.
ERRORS: Mapping[str, tuple[str, ...]] = {
    "AssociateContactToCustomerProfile": ("NoMatchingError",),
    "CheckHoursOfOperation": ("NoMatchingError",),
    "CheckMetricData": ("NoMatchingError",),
    "CheckOutboundCallStatus": ("NoMatchingError",),
    "CheckVoiceId": ("NoMatchingError",),
    "Compare": ("NoMatchingCondition",),
    "CompleteOutboundCall": ("NoMatchingError",),
    "ConnectParticipantWithLexBot": ("NoMatchingCondition", "NoMatchingError"),
    "CreateCallbackContact": ("NoMatchingError",),
    "CreateCase": ("NoMatchingError",),
    "CreateCustomerProfile": ("NoMatchingError",),
    "CreateTask": ("NoMatchingError",),
    "CreateWisdomSession": ("NoMatchingError",),
    "DequeueContactAndTransferToQueue": ("QueueAtCapacity", "NoMatchingError"),
    "DisconnectParticipant": (),
    "DistributeByPercentage": ("NoMatchingCondition",),
    "EndFlowExecution": (),
    "EndFlowModuleExecution": (),
    "GetCalculatedAttributesForCustomerProfile": ("NoMatchingError",),
    "GetCase": ("NoMatchingError",),
    "GetCustomerProfile": ("NoMatchingError",),
    "GetCustomerProfileObject": ("NoMatchingError",),
    "GetMetricData": ("NoMatchingError",),
    "GetParticipantInput": ("InputTimeLimitExceeded", "NoMatchingCondition", "NoMatchingError"),
    "InvokeFlowModule": ("NoMatchingError",),
    "InvokeLambdaFunction": ("NoMatchingError",),
    "Loop": (),
    "MessageParticipant": ("NoMatchingError",),
    "MessageParticipantIteratively": ("NoMatchingError",),
    "ResumeContact": ("NoMatchingError",),
    "ShowView": ("NoMatchingError",),
    "StartOutboundChatContact": ("NoMatchingError",),
    "StartVoiceIdStream": ("NoMatchingError",),
    "TagContact": ("NoMatchingError",),
    "TransferContactToAgent": ("NoMatchingError",),
    "TransferContactToQueue": ("QueueAtCapacity", "NoMatchingError"),
    "TransferParticipantToThirdParty": (
        "CallFailed",
        "ConnectionTimeLimitExceeded",
        "NoMatchingError",
    ),
    "TransferToFlow": ("NoMatchingError",),
    "UnTagContact": ("NoMatchingError",),
    "UntagContact": ("NoMatchingError",),
    "UpdateCase": ("NoMatchingError",),
    "UpdateContactAttributes": ("NoMatchingError",),
    "UpdateContactCallbackNumber": ("InvalidCallbackNumber", "CallbackNumberNotDialable"),
    "UpdateContactData": ("NoMatchingError",),
    "UpdateContactEventHooks": ("NoMatchingError",),
    "UpdateContactMediaProcessing": ("NoMatchingError",),
    "UpdateContactMediaStreamingBehavior": ("NoMatchingError",),
    "UpdateContactRecordingAndAnalyticsBehavior": ("NoMatchingError",),
    "UpdateContactRecordingBehavior": (),
    "UpdateContactRoutingBehavior": (),
    "UpdateContactTargetQueue": ("NoMatchingError",),
    "UpdateContactTextToSpeechVoice": (),
    "UpdateCustomerProfile": ("NoMatchingError",),
    "UpdateFlowAttributes": ("NoMatchingError",),
    "UpdateFlowLoggingBehavior": (),
    "UpdatePreviousContactParticipantState": ("NoMatchingError",),
    "UpdateRoutingCriteria": ("NoMatchingError",),
    "Wait": ("NoMatchingError",),
}
ACTION_TYPES = frozenset(ERRORS)

# Actions that end the flow (or the module) for this contact.
TERMINAL = frozenset({"DisconnectParticipant", "EndFlowExecution", "EndFlowModuleExecution"})
# Actions after which the contact leaves this flow when they succeed.
HAND_OFF = frozenset(
    {
        "TransferContactToQueue",
        "TransferToFlow",
        "TransferContactToAgent",
        "DequeueContactAndTransferToQueue",
    }
)

# Where an action may run, when the reference restricts it.
ALLOWED_IN: Mapping[str, frozenset[str]] = {
    "TransferContactToQueue": INBOUND_AND_TRANSFER,
    "UpdateContactTargetQueue": INBOUND_AND_TRANSFER | {"CUSTOMER_QUEUE"},
    "DequeueContactAndTransferToQueue": frozenset({"CUSTOMER_QUEUE", "MODULE"}),
    "UpdateContactRoutingBehavior": frozenset({"CONTACT_FLOW", "MODULE"}),
    "CreateCallbackContact": INBOUND_AND_TRANSFER | {"CUSTOMER_QUEUE"},
    "EndFlowModuleExecution": frozenset({"MODULE"}),
}
FORBIDDEN_IN: Mapping[str, frozenset[str]] = {
    "UpdateContactCallbackNumber": WHISPER_AND_HOLD,
}

# Parameters that name another resource (an ARN, an id, a reference or a placeholder).
REFERENCE_PARAMETERS = frozenset(
    {
        "LambdaFunctionARN",
        "QueueId",
        "ContactFlowId",
        "FlowModuleId",
        "HoursOfOperationId",
        "AgentId",
        "PromptId",
        "AliasArn",
    }
)
# Parameters that are never right empty, wherever they appear (an empty
# `FromEmailAddress.EmailAddress` in an action we do not otherwise check included).
NEVER_EMPTY = REFERENCE_PARAMETERS | frozenset(
    {"InvocationTimeLimitSeconds", "EmailAddress", "ComparisonValue", "MetricType"}
)
# CheckMetricData's metrics (flow-control-actions-checkmetricdata); the agent counts allow
# only the condition NumberGreaterThan 0.
CHECK_METRICS = frozenset(
    {
        "NumberOfAgentsAvailable",
        "NumberOfAgentsStaffed",
        "NumberOfAgentsOnline",
        "OldestContactInQueueAgeSeconds",
        "NumberOfContactsInQueue",
    }
)
MAX_ACTIONS = 250
MAX_IDENTIFIER = 50
FORBIDDEN_IDENTIFIER_CHARACTERS = frozenset("%:()\\/=$,;[]{}")
# As the reference lists them (flow-language-actions, Identifier).
RESERVED_IDENTIFIERS = frozenset(
    {
        "__proto__",
        "constructor",
        "__defineGetter__",
        "__defineSetter__",
        "toString",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "valueOf",
    }
)
MAX_LAMBDA_SECONDS = 8
MAX_ATTRIBUTE_BYTES = 32 * 1024
