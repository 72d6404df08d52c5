"""The signal that asks an app to stop: SIGTERM, or what its image's config named.

A Docker or OCI image's ``StopSignal`` reaches the pod manifest as the app's annotation
:data:`STOP_SIGNAL` (``SIGUSR1``, ``USR1`` or a number); flavors send :func:`stop_signal` of an
app where they would send SIGTERM (or :func:`stop_signal_number`, which imports :mod:`signal` only
for an app whose annotation names one: its enum costs a short-lived command about half a millisecond).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal

    from rkt_sdk.appc import RuntimeApp

#: The annotation (of the image, copied to the pod manifest's app) naming the stop signal.
STOP_SIGNAL = "appc.io/docker/stopsignal"


def parse_signal(text: str) -> signal.Signals | None:
    """``"SIGUSR1"``, ``"USR1"``, ``"10"`` -> the signal; None when it names none."""
    import signal

    text = text.strip().upper()
    if text.isdigit():
        try:
            return signal.Signals(int(text))
        except ValueError:
            return None
    name = text if text.startswith("SIG") else "SIG" + text
    return getattr(signal.Signals, name, None)


def stop_signal(app: RuntimeApp) -> signal.Signals:
    """The signal asking ``app`` to stop (SIGTERM unless its annotation names another)."""
    import signal

    for kv in app.annotations:
        if kv.name == STOP_SIGNAL:
            return parse_signal(kv.value) or signal.SIGTERM
    return signal.SIGTERM


def stop_signal_number(app: RuntimeApp) -> int:
    """:func:`stop_signal` of ``app`` as its number (15, SIGTERM, unless its annotation names another)."""
    for kv in app.annotations:
        if kv.name == STOP_SIGNAL:
            return int(stop_signal(app))
    return 15
