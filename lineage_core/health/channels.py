"""Delivery: Slack incoming webhooks and SMTP e-mail, with bounded retries and backoff.

A webhook URL is a secret: it is read from the environment variable the config names and
never appears in output or errors (they name the variable instead). A 429 or 5xx answer, a
timeout or a refused connection is retried ``retries`` times, waiting ``backoff_seconds``
doubled each time (or the server's Retry-After), at most ``max_backoff_seconds``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import requests

from lineage_core.health.notify import Message
from lineage_core.health.rules import EmailChannel, HealthSettings, NotifySettings, SlackChannel


@dataclass(frozen=True)
class Delivery:
    subscriber: str
    ok: bool
    attempts: int
    detail: str


class _Transient(Exception):
    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class _Permanent(Exception):
    pass


def _with_retries(
    attempt: Callable[[], None], settings: NotifySettings, sleep: Callable[[float], None]
) -> tuple[bool, int, str]:
    wait = settings.backoff_seconds
    for number in range(1, settings.retries + 2):
        try:
            attempt()
            return True, number, "sent"
        except _Permanent as exc:
            return False, number, str(exc)
        except _Transient as exc:
            if number > settings.retries:
                return False, number, f"{exc} (gave up after {number} attempts)"
            pause = exc.retry_after if exc.retry_after is not None else wait
            sleep(min(max(pause, 0.0), settings.max_backoff_seconds))
            wait = min(wait * 2, settings.max_backoff_seconds)
    return False, settings.retries + 1, "not sent"  # pragma: no cover - the loop always returns


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def send_slack(
    channel: SlackChannel, message: Message, settings: NotifySettings, env: Mapping[str, str],
    sleep: Callable[[float], None],
) -> Delivery:
    name = channel.slack.webhook_env
    url = env.get(name, "").strip()
    if not url:
        return Delivery(message.subscriber, False, 0, f"environment variable {name} is not set")
    body = {"text": message.text}

    def attempt() -> None:
        try:
            response = requests.post(url, json=body, timeout=settings.timeout_seconds)
        except requests.RequestException as exc:  # the text of exc holds the URL: name the class only
            raise _Transient(f"webhook {name}: {type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"webhook {name}: HTTP {response.status_code}", _retry_after(response))
        if response.status_code >= 300:
            raise _Permanent(f"webhook {name}: HTTP {response.status_code} {response.text[:200]!r}")

    ok, attempts, detail = _with_retries(attempt, settings, sleep)
    return Delivery(message.subscriber, ok, attempts, detail)


def send_email(
    channel: EmailChannel, message: Message, health: HealthSettings, env: Mapping[str, str],
    sleep: Callable[[float], None],
) -> Delivery:
    smtp = health.notify.smtp
    if smtp is None:
        return Delivery(message.subscriber, False, 0, "no `notify: {smtp: …}` in the config")
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = channel.email
    mail["Subject"] = message.subject
    mail.set_content(message.text)
    password = env.get(smtp.password_env, "") if smtp.password_env else ""

    def attempt() -> None:
        try:
            factory: Any = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
            with factory(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as server:
                if smtp.starttls:
                    server.starttls(context=ssl.create_default_context())
                if smtp.username:
                    server.login(smtp.username, password)
                server.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code} {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise _Transient(text) from None
            raise _Permanent(text) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(400 <= c < 500 for c in codes):
                raise _Transient(f"SMTP recipient refused {codes}") from None
            raise _Permanent(f"SMTP recipient refused {codes}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Transient(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}") from None

    ok, attempts, detail = _with_retries(attempt, health.notify, sleep)
    return Delivery(message.subscriber, ok, attempts, detail)


def deliver(
    message: Message, health: HealthSettings, env: Mapping[str, str], sleep: Callable[[float], None]
) -> Delivery:
    """Send one message on its channel; never raises for a delivery failure."""
    channel = message.channel
    if isinstance(channel, SlackChannel):
        return send_slack(channel, message, health.notify, env, sleep)
    return send_email(channel, message, health, env, sleep)
