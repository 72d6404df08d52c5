"""Handing a download to a signature checker as it arrives: the checker's input and who writes it.

A streamed check (:mod:`rkt.trust.gpg`, :mod:`rkt.trust.sqv`) reads the signed data from its
standard input while rkt imports the same bytes. :class:`Feeder` writes them so that the
download never waits for the checker; :func:`feed_socket` and :func:`feed_pipe` make the
checker's input; :class:`FedCheck` is what a checker fed so has.
"""

from __future__ import annotations

import os
import select
import threading

#: Bytes of a streamed check queued for the checker before the download waits for it.
FEED_LIMIT = 32 << 20

#: Bytes in flight to the checker (its input's buffer), where the kernel allows that much.
FEED_BUFFER = 4 << 20

_SO_SNDBUFFORCE = 32  # Linux: SO_SNDBUF beyond the system's limit, for a privileged process
_F_SETPIPE_SZ = 1031  # Linux: a pipe's capacity


class Feeder:
    """Writes a streamed check's data to the checker's input ``fd`` (closed by :meth:`close`).

    :meth:`put` writes what the input's buffer takes at once (it never blocks) and queues the
    rest for a thread that writes it as the checker reads; it waits only when more than
    :data:`FEED_LIMIT` bytes are queued (a bound on memory). The thread is woken only when
    the checker lags: handing every chunk to it cost about 70 ms of CPU per 200 MiB in thread
    switches, and writing with blocking writes from the downloading thread made download and
    check take turns.
    """

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._cond = threading.Condition()
        self._chunks: list[memoryview] = []
        self._queued = 0
        self._closed = False
        self._broken = False
        self._thread: threading.Thread | None = None

    def put(self, data: bytes) -> None:
        with self._cond:
            while self._queued > FEED_LIMIT and not self._broken:
                self._cond.wait()
            if self._broken or self._closed:
                return
            view = memoryview(data)
            if not self._chunks:
                view = view[self._write(view):]
                if not view:
                    return
            self._chunks.append(view)
            self._queued += len(view)
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_queued, name="signature-feed", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def close(self) -> None:
        """No more data: wait until the checker has it all (or gave up), then close its input."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        os.close(self._fd)

    def _write(self, view: memoryview) -> int:
        """Write what the input takes now; bytes written (all of them, once the checker gave up)."""
        try:
            return os.write(self._fd, view)
        except BlockingIOError:
            return 0
        except OSError:  # the checker gave up: its verdict says why
            self._broken = True
            self._chunks.clear()
            self._queued = 0
            self._cond.notify_all()
            return len(view)

    def _write_queued(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLOUT)
        while True:
            with self._cond:
                while not self._chunks and not self._closed:
                    self._cond.wait()
                if not self._chunks:
                    return
                chunk = self._chunks[0]  # stays queued while written: put() queues behind it
            poller.poll()
            with self._cond:
                if self._broken:
                    continue
                n = self._write(chunk)
                if self._broken:
                    continue
                self._queued -= n
                if n == len(chunk):
                    self._chunks.pop(0)
                else:
                    self._chunks[0] = chunk[n:]
                self._cond.notify_all()


def feed_socket() -> tuple[Feeder, int]:
    """A feeder writing to a stream socket, and the checker's end as a descriptor for its stdin.

    For gpgv: a full pipe wakes its writer each time gpgv reads a few KiB, while a socket's
    writer waits until its buffer is three quarters drained, so the two hand over large
    batches and spend less time in the kernel (on loopback, about a tenth of a CPU second less
    per 200 MiB). A checker that opens its input by name (``/dev/stdin``) cannot take a socket.
    """
    import socket

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        ours.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, FEED_BUFFER)
    except OSError:  # not privileged: as much as the system allows
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, FEED_BUFFER)
    ours.shutdown(socket.SHUT_RD)
    theirs.shutdown(socket.SHUT_WR)
    return Feeder(ours.detach()), theirs.detach()


def feed_pipe() -> tuple[Feeder, int]:
    """A feeder writing to a pipe, and the pipe's read end as a descriptor for the checker's stdin.

    The pipe holds :data:`FEED_BUFFER` bytes where the kernel allows (a privileged process may
    go beyond the system's limit), else as much as it allows.
    """
    import fcntl

    r, w = os.pipe()
    for size in (FEED_BUFFER, 1 << 20):
        try:
            fcntl.fcntl(w, _F_SETPIPE_SZ, size)
            break
        except OSError:
            continue
    return Feeder(w), r


class FedCheck:
    """What the checkers share (:class:`rkt.trust.gpg.Check`, :class:`rkt.trust.sqv.SqvCheck`):
    the data of a streamed check given to :meth:`feed`, and the end of feeding, once."""

    _feeder: Feeder | None = None
    _done = False

    def feed(self, data: bytes) -> None:
        """Give the checker the next bytes of the signed data (a streamed check); returns before it reads them."""
        if self._feeder is not None:
            self._feeder.put(data)

    def _stop_feeding(self) -> None:
        """No more data: close the checker's input (waiting until it has what was given)."""
        self._done = True
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.close()
