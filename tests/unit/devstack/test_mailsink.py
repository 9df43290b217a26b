"""The SMTP sink keeps each message whole, with its envelope, readable by its owner only."""

from __future__ import annotations

import smtplib
import stat
import uuid
from email.message import EmailMessage

from app.devstack.mailsink import LocalMailSink


def test_a_message_is_kept_whole_with_its_envelope_and_privately(mail_sink: LocalMailSink) -> None:
    to, hidden = (f"{name}-{uuid.uuid4().hex[:8]}@shoppers.test" for name in ("to", "bcc"))
    message = EmailMessage()
    message["From"] = "shop@edgecart.test"
    message["To"] = to
    message["Subject"] = "Grüße from the sink test"
    message.set_content("plain words")
    message.add_alternative("<p>html words</p>", subtype="html")

    with smtplib.SMTP("127.0.0.1", mail_sink.port, timeout=10) as client:
        client.send_message(message, to_addrs=[to, hidden])

    mail = mail_sink.wait_for(lambda m: m.to == to, timeout=10)
    assert mail.subject == "Grüße from the sink test"
    assert mail.envelope_to == [to, hidden]
    assert mail.text.strip() == "plain words"
    assert mail.html.strip() == "<p>html words</p>"
    assert stat.S_IMODE(mail.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(mail_sink.directory.stat().st_mode) == 0o700
