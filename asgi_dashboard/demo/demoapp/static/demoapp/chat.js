// Chat client for /chat/<room>/: a plain WebSocket to /ws/chat/<room>/ (demoapp.consumers.ChatConsumer).
"use strict";

(function () {
  const room = JSON.parse(document.getElementById("chat-room").textContent);
  const status = document.getElementById("chat-status");
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");

  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}/ws/chat/${encodeURIComponent(room)}/`;
  status.textContent = `Connecting to ${url} ...`;
  const socket = new WebSocket(url);

  function show(text) {
    const line = document.createElement("li");
    line.textContent = text; // textContent, never innerHTML: messages are untrusted
    log.appendChild(line);
  }

  socket.addEventListener("open", () => { status.textContent = `Connected to ${url}`; });
  socket.addEventListener("close", (event) => {
    status.textContent = `Disconnected (code ${event.code}). Reload to reconnect.`;
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    show(data.error ? `error: ${data.error}` : `${data.user}: ${data.message}`);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ message: input.value }));
      input.value = "";
    }
  });
})();
