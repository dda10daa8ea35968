"""Where messages come in and go out: one adapter per channel (simulator, Twilio SMS, Telegram)."""
