"""`relais channels check` and `relais telegram poll|set-webhook`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.command_line import ConfigOption, settings_or_exit
from bot.config import Settings

channels_app = typer.Typer(help="SMS and Telegram channels.", no_args_is_help=True)
telegram_app = typer.Typer(help="Telegram: polling for a laptop, webhook set-up for production.",
                           no_args_is_help=True)



def channel_report(settings: Settings) -> list[tuple[str, str, list[str]]]:
    """(channel, state, problems) for each channel: state is configured, incomplete or off."""
    report = [("simulator", "configured", [])]
    for name, channel in (("twilio", settings.twilio), ("telegram", settings.telegram)):
        problems = channel.problems()
        touched = any(getattr(channel, key) for key in ("account_sid", "auth_token", "bot_token")
                      if hasattr(channel, key))
        state = "off" if not touched else ("configured" if not problems else "incomplete")
        report.append((name, state, problems if touched else []))
    return report


@channels_app.command("check")
def check(config: ConfigOption = None) -> None:
    """Say which channels are configured and whether their credentials are well formed (offline)."""
    settings = settings_or_exit(config)
    failed = False
    for name, state, problems in channel_report(settings):
        typer.echo(f"{name:10} {state}")
        for problem in problems:
            typer.echo(f"           - {problem}")
        if name == "telegram" and state == "configured":
            continue
        failed = failed or (state == "incomplete" and not all("webhook_secret" in p for p in problems))
    if settings.twilio.configured:
        typer.echo(f"Twilio webhooks: {settings.public_url.rstrip('/')}/channels/twilio/sms (and /status)")
    if settings.telegram.configured:
        typer.echo(f"Telegram webhook: {settings.public_url.rstrip('/')}/channels/telegram")
    raise typer.Exit(1 if failed else 0)


@telegram_app.command("poll")
def poll_command(
    config: ConfigOption = None,
    interval: Annotated[float, typer.Option(help="Seconds between two getUpdates.")] = 1.0,
) -> None:
    """Answer Telegram by polling (no public URL needed). Stops with Ctrl-C."""
    from bot.app import build_runtime
    from bot.channels.telegram import poll

    settings = settings_or_exit(config)
    if not settings.telegram.configured:
        typer.echo("Telegram is not configured: set TELEGRAM_BOT_TOKEN or telegram.bot_token", err=True)
        raise typer.Exit(2)
    runtime = build_runtime(settings)
    try:
        asyncio.run(poll(runtime, interval=interval))
    except KeyboardInterrupt:
        pass
    finally:
        runtime.db.dispose()


@telegram_app.command("set-webhook")
def set_webhook(config: ConfigOption = None) -> None:
    """Tell Telegram to post updates to <public_url>/channels/telegram with the configured secret."""
    from bot.channels.telegram import make_bot

    settings = settings_or_exit(config)
    if not (settings.telegram.configured and settings.telegram.webhook_secret):
        typer.echo("Set telegram.bot_token (or TELEGRAM_BOT_TOKEN) and telegram.webhook_secret first", err=True)
        raise typer.Exit(2)
    url = f"{settings.public_url.rstrip('/')}/channels/telegram"

    async def register() -> bool:
        async with make_bot(settings.telegram) as bot:
            return await bot.set_webhook(url, secret_token=settings.telegram.webhook_secret,
                                         allowed_updates=["message"])

    typer.echo(f"webhook {'set' if asyncio.run(register()) else 'refused'}: {url}")
