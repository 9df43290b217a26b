"""An SMTP server that keeps what it receives: each message a .eml file in a private directory.

`edgecart dev` and the tests run it as a child process (`python -m app.devstack.mailsink
--port P --dir D`) through LocalMailSink; `read_mail` and `wait_for_mail` read what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from app.devstack.errors import DevStackError
from app.devstack.ports import require_free_port, wait_for_port

SINK_HOSTNAME = "edgecart-mailsink"


def private_directory(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)


class KeepingHandler:
    """aiosmtpd handler: write the message with its envelope, then answer 250."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        envelope_lines = [
            f"X-Envelope-From: {envelope.mail_from}",
            *(f"X-Envelope-To: {recipient}" for recipient in envelope.rcpt_tos),
        ]
        head = ("\r\n".join(envelope_lines) + "\r\n").encode()
        await asyncio.to_thread(self._store, head + envelope.original_content)
        return "250 Message kept"

    def _store(self, data: bytes) -> None:
        # Nanoseconds first, so names sort in arrival order; the counter breaks ties.
        name = f"{time.time_ns()}-{next(self.numbers):06d}"
        partial = self.directory / f".{name}.part"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        # A reader never sees half a message: the .eml name appears complete, in one rename.
        partial.rename(self.directory / f"{name}.eml")


async def serve(host: str, port: int, directory: Path) -> None:
    from aiosmtpd.smtp import SMTP  # only the sink process needs the server

    loop = asyncio.get_running_loop()
    handler = KeepingHandler(directory)
    server = await loop.create_server(
        # A fixed name: the default looks up this machine's FQDN, which can stall on DNS.
        lambda: SMTP(handler, hostname=SINK_HOSTNAME, loop=loop),
        host,
        port,
    )
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with server:
        await stopping.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.devstack.mailsink", description="An SMTP server that keeps mail."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="where .eml files are written")
    args = parser.parse_args(argv)
    private_directory(args.dir)
    asyncio.run(serve(args.host, args.port, args.dir))
    return 0


@dataclass(frozen=True)
class StoredMail:
    path: Path
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def envelope_to(self) -> list[str]:
        return [str(value) for value in self.message.get_all("X-Envelope-To", [])]

    def body(self, subtype: str) -> str:
        """The text of the `plain` or `html` part; empty when the mail has none."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return ""
        content: str = part.get_content()
        return content

    @property
    def text(self) -> str:
        return self.body("plain")

    @property
    def html(self) -> str:
        return self.body("html")


def read_mail(directory: Path) -> list[StoredMail]:
    """Every message kept in `directory`, oldest first."""
    parser = BytesParser(policy=policy.default)
    mails = []
    for path in sorted(directory.glob("*.eml")):
        with path.open("rb") as source:
            message = parser.parse(source)
        assert isinstance(message, EmailMessage)  # the default policy makes EmailMessages
        mails.append(StoredMail(path, message))
    return mails


def wait_for_mail(
    directory: Path, matches: Callable[[StoredMail], bool], timeout: float = 15
) -> StoredMail:
    """The first kept message that `matches`, waiting up to `timeout` seconds for it."""
    deadline = time.monotonic() + timeout
    while True:
        for mail in read_mail(directory):
            if matches(mail):
                return mail
        if time.monotonic() > deadline:
            raise TimeoutError(f"no matching mail arrived in {directory} within {timeout:.0f} s")
        time.sleep(0.05)


@dataclass
class LocalMailSink:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        require_free_port(self.port, "the mail sink (SMTP)", "EDGECART_MAIL_PORT")
        # Mail holds reset links and customers' addresses: only this user may read it.
        private_directory(self.directory)
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "app.devstack.mailsink"),
                *("--port", str(self.port), "--dir", str(self.directory)),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, 15, "the mail sink (SMTP)")
        except DevStackError:
            self.stop()
            raise

    def read(self) -> list[StoredMail]:
        return read_mail(self.directory)

    def wait_for(self, matches: Callable[[StoredMail], bool], timeout: float = 15) -> StoredMail:
        return wait_for_mail(self.directory, matches, timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
