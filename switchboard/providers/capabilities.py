"""What each provider type can honour of an OpenAI chat request, as data.

`fit_request` is the one place that says no: a parameter the deployment's provider type cannot
honour is a 400 naming it and the model, or (when the catalogue sets
`drop_unsupported_params: true` for the model) it is dropped and its name reported, so the
response can say so. `native_n` says whether the upstream serves `n` > 1 itself; where it does
not, the call stage makes n calls (providers/fanout.py). `native_responses` says whether a
deployment of the type may set `responses_api: native` (its adapter sends a Responses body to
the upstream's own /v1/responses); such a deployment takes the client's body as it is, so
nothing is refused there. README's feature table is checked against this table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, Message
from switchboard.errors import UnsupportedOperation


@dataclass(frozen=True, slots=True)
class Param:
    """A request feature some providers cannot honour: how to see it and how to drop it."""

    name: str  # the field a 400 names and the dropped-params header lists
    keys: tuple[str, ...]  # the request params it lives in (dropped together)
    present: Callable[[ChatRequest], bool]
    what: str = ""  # a few words for the error message, where the name is not enough

    def drop(self, request: ChatRequest) -> ChatRequest:
        if self.name == "messages":
            return dataclasses.replace(request, messages=[_text_only(m) for m in request.messages])
        params = {k: v for k, v in request.params.items() if k not in self.keys}
        return dataclasses.replace(request, params=params)


def _set(*keys: str) -> Callable[[ChatRequest], bool]:
    return lambda r: any(r.params.get(k) not in (None, False, [], {}) for k in keys)


def _json_mode(request: ChatRequest) -> bool:
    fmt = request.params.get("response_format")
    return isinstance(fmt, Mapping) and fmt.get("type") not in (None, "text")


def _non_text_parts(request: ChatRequest) -> bool:
    return any(
        isinstance(m.content, list) and any(p.get("type") != "text" for p in m.content)
        for m in request.messages
    )


def _text_only(message: Message) -> Message:
    if not isinstance(message.content, list):
        return message
    parts = [p for p in message.content if p.get("type") == "text"]
    return dataclasses.replace(message, content=parts)


TOOLS = Param("tools", ("tools", "tool_choice", "parallel_tool_calls"), _set("tools"))
FUNCTIONS = Param("functions", ("functions", "function_call"), _set("functions"))
RESPONSE_FORMAT = Param("response_format", ("response_format",), _json_mode, "JSON mode")
LOGPROBS = Param("logprobs", ("logprobs", "top_logprobs"), _set("logprobs"))
TOP_LOGPROBS = Param("top_logprobs", ("top_logprobs",), _set("top_logprobs"))
LOGIT_BIAS = Param("logit_bias", ("logit_bias",), _set("logit_bias"))
AUDIO = Param("audio", ("audio", "modalities"), _set("audio"), "audio output")
CONTENT_PARTS = Param("messages", (), _non_text_parts, "image or audio content parts")


@dataclass(frozen=True, slots=True)
class Capabilities:
    native_n: bool  # the upstream answers `n` > 1 in one call
    refuses: tuple[Param, ...] = ()  # what the adapter cannot translate or the model cannot do
    native_responses: bool = False  # the adapter can pass a Responses body through


OPENAI_WIRE = Capabilities(native_n=True, native_responses=True)
OPENAI_WIRE_SINGLE = Capabilities(native_n=False)  # OpenAI's wire, but `n` is ignored or refused
TRANSLATED = Capabilities(
    native_n=False, refuses=(FUNCTIONS, RESPONSE_FORMAT, LOGPROBS, TOP_LOGPROBS, LOGIT_BIAS, AUDIO)
)
EMBEDDED = Capabilities(
    native_n=False,
    refuses=(
        TOOLS,
        FUNCTIONS,
        RESPONSE_FORMAT,
        LOGPROBS,
        TOP_LOGPROBS,
        LOGIT_BIAS,
        AUDIO,
        CONTENT_PARTS,
    ),
)

CAPABILITIES: Mapping[str, Capabilities] = {
    "openai": OPENAI_WIRE,
    "azure": OPENAI_WIRE,
    "vllm": OPENAI_WIRE,
    "tgi": OPENAI_WIRE_SINGLE,
    "llamacpp": OPENAI_WIRE_SINGLE,
    "ollama": OPENAI_WIRE_SINGLE,
    "anthropic": TRANSLATED,
    "bedrock": TRANSLATED,
    "local": EMBEDDED,
}


def capabilities(provider: str) -> Capabilities:
    return CAPABILITIES.get(provider, OPENAI_WIRE_SINGLE)


def refused_param(request: ChatRequest, provider: str) -> Param | None:
    """The first feature of `request` that `provider` cannot honour, if any."""
    return next((p for p in capabilities(provider).refuses if p.present(request)), None)


def serves_natively(request: ChatRequest, deployment: DeploymentConfig) -> bool:
    """Whether `deployment` gets the client's own body (`request.native`) instead of the chat."""
    return request.native is not None and deployment.responses_api == "native"


def check_native_setting(deployment: DeploymentConfig) -> None:
    """A ValueError for `responses_api: native` on a provider type that cannot pass it."""
    if (
        deployment.responses_api == "native"
        and not capabilities(deployment.provider).native_responses
    ):
        raise ValueError(
            f"deployment {deployment.id}: responses_api native needs a provider type that "
            f"serves /v1/responses (openai, azure, vllm), not {deployment.provider!r}"
        )


def fit_request(
    request: ChatRequest, deployment: DeploymentConfig, drop: bool
) -> tuple[ChatRequest, tuple[str, ...]]:
    """`request` as `deployment` can serve it and the names of what was dropped; or, with
    `drop` off, UnsupportedOperation naming the first feature it cannot honour. A native
    deployment takes the client's body as it is; elsewhere, what the chat translation of that
    body had to leave out is refused (or, with `drop`, named as dropped)."""
    if serves_natively(request, deployment):
        return request, ()
    dropped: list[str] = []
    left_out = request.native.untranslated if request.native is not None else None
    if left_out is not None:
        if not drop:
            raise unsupported_native(request.model, deployment, *left_out)
        dropped.append(left_out[0])
    refuses = capabilities(deployment.provider).refuses
    for param in refuses:
        if not param.present(request):
            continue
        if not drop:
            raise unsupported(request.model, deployment, param)
        request = param.drop(request)
        dropped.append(param.name)
    return request, tuple(dropped)


def unsupported_native(
    model: str, deployment: DeploymentConfig, param: str, why: str
) -> UnsupportedOperation:
    return UnsupportedOperation(
        f"{why} on the model `{model}` (deployment `{deployment.id}` translates the Responses "
        "API to a chat completion; a deployment with `responses_api: native` passes it through)",
        param=param,
        code="unsupported_parameter",
    )


def unsupported(model: str, deployment: DeploymentConfig, param: Param) -> UnsupportedOperation:
    feature = f"`{param.name}`" + (f" ({param.what})" if param.what else "")
    return UnsupportedOperation(
        f"the model `{model}` (deployment `{deployment.id}`, provider `{deployment.provider}`) "
        f"does not support {feature}; set `drop_unsupported_params: true` on the model in the "
        "catalogue to have it dropped instead",
        param=param.name,
        code="unsupported_parameter",
    )
