"""The channel registry: a channel (SMS, e-mail, portal inbox, Web Push) is one registered thing.

Each channel module defines one `Channel`: its name, the recipient contact that addresses it, the template
form it renders (`templates/messages.py`), whether staff may choose it, what one message costs, and how
to build its sender from the stage's settings. Adding a channel (WhatsApp, say) is one module here plus
its template form, and one line in `_MODULES`; the outbox worker, preferences and the bill read the
registry and need no change. Which channel a given message goes to is the message policy's decision
(`domain/message_policy.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.templates.messages import Message


@dataclass(frozen=True)
class Outgoing:
    """One rendered message on its way to one address of one channel."""

    address: str
    message: Message
    message_id: str  # "{outbox id}:{channel}:{recipient}": the provider keeps it for tracing
    event: str
    village: str
    payload: Mapping[str, Any]
    created_at: str  # the outbox row's creation time (the inbox orders and de-duplicates by it)


class ChannelSender(Protocol):
    def deliver(self, outgoing: Outgoing) -> int:
        """Hand one message to the channel; returns the billable units (SMS parts; 1 otherwise, 0 if
        nothing was sent because the address no longer exists, e.g. an expired push subscription).
        Raises TransientSendError when a retry may succeed and PermanentSendError when it cannot."""
        ...


@dataclass(frozen=True)
class Channel:
    name: str
    label: str  # as staff and citizens see it (Bahasa Indonesia)
    contact: str  # the recipient contact it is addressed by: "phone", "email", "citizen" (the NIK hash)
    form: str  # the template form it renders: "sms" (one GSM-7 part), "email" (subject, text, HTML), "short"
    staff_choice: bool  # may staff choose it in their notification preferences
    price_setting: str | None  # the Settings field with the price of one unit (USD), None when free
    build_sender: Callable[[Settings], ChannelSender]

    def price(self, settings: Settings) -> float:
        return float(getattr(settings, self.price_setting)) if self.price_setting else 0.0


# Registration: the modules that each define CHANNEL, cheapest first.
_MODULES = ("inbox", "push", "email", "sms")


@lru_cache(maxsize=1)
def registry() -> dict[str, Channel]:
    found: dict[str, Channel] = {}
    for module in _MODULES:
        channel: Channel = import_module(f"chalicelib.channels.{module}").CHANNEL
        found[channel.name] = channel
    return found


def get(name: str) -> Channel:
    try:
        return registry()[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}") from None


def names() -> tuple[str, ...]:
    return tuple(registry())


def staff_choices() -> tuple[str, ...]:
    return tuple(c.name for c in registry().values() if c.staff_choice)


class Senders:
    """The senders one run uses, one per channel, built from settings on first use. Tests inject their fakes
    by channel name (`Senders(sms=..., email=...)`): a bare SMS/e-mail adapter is wrapped by its channel
    module, and `senders.sms` gives the injected object back."""

    def __init__(self, settings: Settings | None = None, **given: Any) -> None:
        self._settings = settings
        self._given: dict[str, Any] = dict(given)
        self._built: dict[str, ChannelSender] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._given[name] if name in self._given else self.for_channel(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        self._given[name] = value
        self._built.pop(name, None)

    def for_channel(self, name: str) -> ChannelSender:
        if name not in self._built:
            given = self._given.get(name)
            if given is None:
                settings = self._settings
                if settings is None:
                    from chalicelib.config import get_settings

                    settings = get_settings()
                self._built[name] = get(name).build_sender(settings)
            else:
                self._built[name] = given if hasattr(given, "deliver") else _wrap(name, given)
        return self._built[name]


def _wrap(name: str, adapter: Any) -> ChannelSender:
    wrap = getattr(import_module(f"chalicelib.channels.{name}"), "wrap", None)
    if wrap is None:
        raise ValueError(f"channel {name!r} takes no bare adapter")
    return wrap(adapter)  # type: ignore[no-any-return]
