/*
 * The foot-cramp assistant's chat widget: plain JavaScript, no framework.
 *
 * Talks to Rasa's socket.io channel (channels.socketio.SocketIOChannel, session_persistence on):
 *   connect -> emit "session_request" {session_id}  -> "session_confirm" (id)
 *   send    -> emit "user_uttered" {message, session_id}
 *   receive <- "bot_uttered" {text, quick_replies?} or {custom: {escalation: {tier, action}}}
 *
 * Safety rules kept throughout: message content is only ever put into the page with textContent
 * or createTextNode (never innerHTML), links are <a> elements built with createElement and only
 * for http(s) URLs, and nothing is sent while the socket is not connected (no silent queue).
 *
 * The session id and the transcript live in localStorage, so a reload continues the same Rasa
 * tracker and shows the same conversation; "New conversation" starts a fresh id.
 */
(function () {
  "use strict";

  var SESSION_KEY = "cramps-chat.session-id";
  var TRANSCRIPT_KEY = "cramps-chat.transcript";
  var MAX_TRANSCRIPT = 300; // entries kept in localStorage
  var TYPING_TIMEOUT_MS = 30000; // hide the typing indicator if no reply comes by then
  var TIERS = {
    emergency: "Emergency",
    urgent: "Urgent: get medical help today",
    see_doctor: "Worth getting checked by a doctor"
  };
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

  var elements = {};
  var state = {
    socket: null,
    sessionId: null,
    transcript: [],
    connected: false, // socket connected and session confirmed: sending is allowed
    everConnected: false,
    typingTimer: null
  };

  // ---------- storage (fails soft: private windows may refuse localStorage) ----------

  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (error) {
      /* storage full or disabled: the conversation still works, it just won't survive a reload */
    }
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function validSessionId(value) {
    return typeof value === "string" && /^[A-Za-z0-9_-]{8,128}$/.test(value);
  }

  function remember(entry) {
    state.transcript.push(entry);
    if (state.transcript.length > MAX_TRANSCRIPT) {
      state.transcript = state.transcript.slice(-MAX_TRANSCRIPT);
    }
    save(TRANSCRIPT_KEY, state.transcript);
  }

  // ---------- rendering (textContent and createElement only) ----------

  /** Append `text` to `parent`, turning http(s) URLs into safe links. */
  function appendTextWithLinks(parent, text) {
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var url = match[0];
      var trailing = url.match(TRAILING_PUNCTUATION);
      if (trailing) {
        url = url.slice(0, url.length - trailing[0].length);
      }
      var start = match.index;
      var href = safeHref(url);
      if (!href) {
        continue;
      }
      if (start > last) {
        parent.appendChild(document.createTextNode(text.slice(last, start)));
      }
      var link = document.createElement("a");
      link.href = href;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = start + url.length;
      URL_PATTERN.lastIndex = last;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function safeHref(candidate) {
    try {
      var parsed = new URL(candidate);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function scrollToEnd() {
    elements.messages.scrollTop = elements.messages.scrollHeight;
  }

  function renderMessage(entry) {
    var item = document.createElement("div");
    item.className = "message message--" + (entry.from === "user" ? "user" : "bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = entry.from === "user" ? "You said: " : "Assistant: ";
    item.appendChild(who);
    var body = document.createElement("p");
    body.className = "message__text";
    if (entry.from === "user") {
      body.textContent = entry.text;
    } else {
      appendTextWithLinks(body, entry.text);
    }
    item.appendChild(body);
    elements.messages.appendChild(item);
    if (entry.quickReplies && entry.quickReplies.length && entry.active) {
      renderQuickReplies(entry);
    }
    return item;
  }

  function renderQuickReplies(entry) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    entry.quickReplies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button quick-reply";
      button.textContent = reply.title;
      button.disabled = !state.connected;
      button.addEventListener("click", function () {
        sendMessage(reply.payload, reply.title);
      });
      group.appendChild(button);
    });
    elements.messages.appendChild(group);
  }

  /** The escalation banner. `live` is false when restoring history (no new alert to announce). */
  function renderEscalation(entry, live) {
    var tier = Object.prototype.hasOwnProperty.call(TIERS, entry.tier) ? entry.tier : "urgent";
    var banner = document.createElement("div");
    banner.className = "escalation escalation--" + tier;
    banner.setAttribute("role", live ? "alert" : "note");
    banner.setAttribute("data-tier", tier);
    var heading = document.createElement("p");
    heading.className = "escalation__tier";
    heading.textContent = TIERS[tier];
    var action = document.createElement("p");
    action.className = "escalation__action";
    appendTextWithLinks(action, entry.action || "");
    banner.appendChild(heading);
    banner.appendChild(action);
    elements.messages.appendChild(banner);
    return banner;
  }

  function renderWelcome() {
    var welcome = document.createElement("div");
    welcome.className = "message message--bot message--welcome";
    var body = document.createElement("p");
    body.className = "message__text";
    body.textContent = "Hello! Ask me about foot cramps: what they are, what causes them, " +
      "how to ease them, and when to see a doctor.\nFor example: “why do my feet cramp at night?”";
    welcome.appendChild(body);
    elements.messages.appendChild(welcome);
  }

  function renderTranscript() {
    while (elements.messages.firstChild) {
      elements.messages.removeChild(elements.messages.firstChild);
    }
    renderWelcome(); // always first, so a restored conversation looks as it did
    state.transcript.forEach(function (entry) {
      if (entry.kind === "escalation") {
        renderEscalation(entry, false);
      } else {
        renderMessage(entry);
      }
    });
    scrollToEnd();
  }

  /** Quick replies answer the latest bot message only: drop the older ones. */
  function retireQuickReplies() {
    var groups = elements.messages.querySelectorAll(".quick-replies");
    Array.prototype.forEach.call(groups, function (group) {
      group.parentNode.removeChild(group);
    });
    var changed = false;
    state.transcript.forEach(function (entry) {
      if (entry.active) {
        entry.active = false;
        changed = true;
      }
    });
    if (changed) {
      save(TRANSCRIPT_KEY, state.transcript);
    }
  }

  // ---------- status, typing, sending ----------

  function setStatus(text, kind) {
    elements.status.textContent = text;
    elements.status.className = "status" + (kind ? " status--" + kind : "");
    elements.status.hidden = !text;
  }

  function setConnected(connected) {
    state.connected = connected;
    elements.send.disabled = !connected;
    elements.composer.classList.toggle("composer--offline", !connected);
    var buttons = elements.messages.querySelectorAll(".quick-reply");
    Array.prototype.forEach.call(buttons, function (button) {
      button.disabled = !connected;
    });
  }

  function showTyping() {
    elements.typing.hidden = false;
    scrollToEnd();
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(function () {
      hideTyping();
      if (state.connected) {
        setStatus("No reply yet. The assistant may be busy; please try again in a moment.", "warning");
      }
    }, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    window.clearTimeout(state.typingTimer);
    state.typingTimer = null;
    elements.typing.hidden = true;
  }

  function sendMessage(payload, shownText) {
    var message = (payload || "").trim();
    if (!message) {
      return false;
    }
    if (!state.connected || !state.socket || !state.socket.connected) {
      // never queue: tell the person instead
      setStatus("Not connected, so nothing was sent. Reconnecting…", "error");
      return false;
    }
    retireQuickReplies();
    var entry = { kind: "message", from: "user", text: shownText || message };
    remember(entry);
    renderMessage(entry);
    scrollToEnd();
    state.socket.emit("user_uttered", { message: message, session_id: state.sessionId });
    showTyping();
    return true;
  }

  function receive(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    hideTyping();
    if (elements.status.classList.contains("status--warning")) {
      setStatus("", null);
    }
    if (typeof data.text === "string" && data.text.trim()) {
      var replies = Array.isArray(data.quick_replies) ? data.quick_replies
        : (Array.isArray(data.buttons) ? data.buttons : []);
      replies = replies.filter(function (reply) {
        return reply && typeof reply.title === "string" && typeof reply.payload === "string";
      }).map(function (reply) {
        return { title: reply.title, payload: reply.payload };
      });
      if (replies.length) {
        retireQuickReplies();
      }
      var entry = { kind: "message", from: "bot", text: data.text, quickReplies: replies,
        active: replies.length > 0 };
      remember(entry);
      renderMessage(entry);
    }
    var custom = data.custom;
    if (custom && typeof custom === "object" && custom.escalation &&
        typeof custom.escalation === "object") {
      var escalation = { kind: "escalation", tier: String(custom.escalation.tier || ""),
        action: String(custom.escalation.action || "") };
      remember(escalation);
      renderEscalation(escalation, true);
    }
    scrollToEnd();
  }

  // ---------- the socket ----------

  function requestSession() {
    state.socket.emit("session_request", { session_id: state.sessionId });
  }

  function connect(config) {
    if (typeof window.io !== "function") {
      setStatus("The chat could not start (socket.io client missing). Please reload the page.", "error");
      return;
    }
    var socket = window.io(config.socketUrl, {
      path: config.socketPath || "/socket.io",
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000
    });
    state.socket = socket;

    socket.on("connect", function () {
      setStatus("Connecting to the assistant…", "info");
      requestSession();
    });
    socket.on("session_confirm", function (sessionId) {
      var confirmed = typeof sessionId === "string" ? sessionId
        : (sessionId && sessionId.session_id);
      if (validSessionId(confirmed) && confirmed !== state.sessionId) {
        state.sessionId = confirmed;
        save(SESSION_KEY, confirmed);
      }
      state.everConnected = true;
      setConnected(true);
      setStatus("", null);
    });
    socket.on("bot_uttered", receive);
    socket.on("disconnect", function (reason) {
      setConnected(false);
      hideTyping();
      // anything socket.io would buffer is dropped: sending is disabled while disconnected
      socket.sendBuffer = [];
      if (reason === "io client disconnect") {
        return; // our own reconnect (new conversation)
      }
      setStatus("Connection lost. Reconnecting…", "error");
    });
    socket.on("connect_error", function () {
      setConnected(false);
      setStatus(state.everConnected ? "Reconnecting to the assistant…"
        : "Can't reach the assistant yet. Retrying…", "error");
    });
    socket.io.on("reconnect_attempt", function () {
      setStatus("Reconnecting to the assistant…", "error");
    });
  }

  function newConversation() {
    hideTyping();
    state.transcript = [];
    save(TRANSCRIPT_KEY, null);
    state.sessionId = newSessionId();
    save(SESSION_KEY, state.sessionId);
    renderTranscript();
    if (state.socket) {
      // a fresh socket leaves the old session's room; "connect" then asks for the new session
      setConnected(false);
      setStatus("Starting a new conversation…", "info");
      state.socket.disconnect();
      state.socket.connect();
    }
    elements.input.value = "";
    elements.input.focus();
  }

  function loadConfig() {
    return window.fetch("config.json", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("config.json: HTTP " + response.status);
        }
        return response.json();
      });
  }

  function start() {
    elements.messages = document.getElementById("messages");
    elements.status = document.getElementById("status");
    elements.typing = document.getElementById("typing");
    elements.composer = document.getElementById("composer");
    elements.input = document.getElementById("message-input");
    elements.send = document.getElementById("send-button");
    elements.reset = document.getElementById("new-conversation");

    var stored = load(SESSION_KEY, null);
    state.sessionId = validSessionId(stored) ? stored : newSessionId();
    save(SESSION_KEY, state.sessionId);
    var transcript = load(TRANSCRIPT_KEY, []);
    state.transcript = Array.isArray(transcript) ? transcript.filter(function (entry) {
      return entry && typeof entry === "object" &&
        (entry.kind === "escalation" || typeof entry.text === "string");
    }) : [];
    renderTranscript();
    setConnected(false);

    elements.composer.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sendMessage(elements.input.value)) {
        elements.input.value = "";
      }
      elements.input.focus();
    });
    elements.reset.addEventListener("click", newConversation);
    // quick-reply buttons vanish once used: keep keyboard focus in the composer
    elements.messages.addEventListener("click", function (event) {
      if (event.target && event.target.classList && event.target.classList.contains("quick-reply")) {
        elements.input.focus();
      }
    });

    loadConfig().then(connect).catch(function () {
      setStatus("The chat could not load its settings. Please reload the page.", "error");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
