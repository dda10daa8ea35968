// telegram-test-api, made compatible with python-telegram-bot:
// - getMe answers with is_bot (PTB's User requires it);
// - dates of messages the bot sends are in seconds, as in the Bot API, not milliseconds.
// Usage: node telegram_stand_in.js PORT   (listens on 127.0.0.1 only)
"use strict";
const http = require("http");
const express = require("express");
const TelegramServer = require("telegram-test-api");

const port = Number(process.argv[2] || 9000);
const server = new TelegramServer({ port, host: "127.0.0.1" });

const sendBotMessage = server.addBotMessage.bind(server);
server.addBotMessage = (rawMessage, botToken) => {
  const sent = sendBotMessage(rawMessage, botToken);
  return { ...sent, date: Math.floor(sent.date / 1000) };
};

const app = express();
app.all("/bot:token/getMe", (_req, res) => {
  res.json({ ok: true, result: { id: 666, is_bot: true, first_name: "Relais test", username: "RelaisTestBot",
    can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false } });
});
app.get("/", (_req, res) => res.json({ ok: true }));
app.use(server.webServer);
http.createServer(app).listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
