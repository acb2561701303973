/*
 * The foot-cramp assistant's chat widget: plain JavaScript, no framework.
 *
 * Talks to Rasa's socket.io channel (channels.socketio.SocketIOChannel, session_persistence on):
 *   connect -> emit "session_request" {session_id}  -> "session_confirm" (id)
 *   send    -> emit "user_uttered" {message, session_id}
 *   receive <- "bot_uttered" {text, quick_replies?} or {custom: {escalation: {tier, headline, action}}}
 *
 * The page has no words of its own for health content: content.json (built from the project's data
 * by scripts/build_web.sh) gives the header's source and note and the welcome, which is the
 * assistant's greeting (utter_greet). An escalation arrives as its text, then its custom payload:
 * the text is shown once, as the banner, under the payload's headline (the same words as on every
 * channel), never as a message and a banner repeating the same action.
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
  var KNOWN_TIERS = ["emergency", "urgent", "see_doctor"]; // banner colours only (chat.css)
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

  var elements = {};
  var state = {
    socket: null,
    sessionId: null,
    transcript: [],
    connected: false, // socket connected and session confirmed: sending is allowed
    everConnected: false,
    typingTimer: null,
    content: null, // content.json: {source, note, welcome: {text, buttons}}
    lastBot: null // the last bot message shown: {entry, node} (an escalation's text, until its payload)
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

  /** The escalation's text without its first line when that line is the headline. */
  function escalationBody(entry) {
    var text = typeof entry.text === "string" ? entry.text : "";
    var headline = typeof entry.headline === "string" ? entry.headline : "";
    if (text && headline && text.indexOf(headline) === 0) {
      text = text.slice(headline.length).replace(/^\s+/, "");
    }
    return text || (typeof entry.action === "string" ? entry.action : "");
  }

  /** The escalation banner: the payload's headline, then the escalation's text (action, why).
   * `live` is false when restoring history (no new alert to announce). */
  function renderEscalation(entry, live) {
    var tier = KNOWN_TIERS.indexOf(entry.tier) >= 0 ? entry.tier : "urgent";
    var banner = document.createElement("div");
    banner.className = "message message--bot escalation escalation--" + tier;
    banner.setAttribute("role", live ? "alert" : "note");
    banner.setAttribute("data-tier", tier);
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = "Assistant: ";
    banner.appendChild(who);
    if (typeof entry.headline === "string" && entry.headline) {
      var heading = document.createElement("p");
      heading.className = "escalation__headline";
      heading.textContent = entry.headline;
      banner.appendChild(heading);
    }
    var body = document.createElement("p");
    body.className = "message__text escalation__text";
    appendTextWithLinks(body, escalationBody(entry));
    banner.appendChild(body);
    elements.messages.appendChild(banner);
    return banner;
  }

  /** The header's source and note, from content.json. */
  function renderHeader() {
    var content = state.content || {};
    [["source", elements.source], ["note", elements.note]].forEach(function (pair) {
      var text = typeof content[pair[0]] === "string" ? content[pair[0]] : "";
      pair[1].textContent = text;
      pair[1].hidden = !text;
    });
  }

  /** The assistant's greeting (content.json), with its buttons while nothing was said yet. */
  function renderWelcome() {
    var welcomeData = state.content && state.content.welcome;
    if (!welcomeData || typeof welcomeData.text !== "string" || !welcomeData.text) {
      return;
    }
    var welcome = document.createElement("div");
    welcome.className = "message message--bot message--welcome";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = "Assistant: ";
    welcome.appendChild(who);
    var body = document.createElement("p");
    body.className = "message__text";
    body.textContent = welcomeData.text;
    welcome.appendChild(body);
    elements.messages.appendChild(welcome);
    var buttons = (Array.isArray(welcomeData.buttons) ? welcomeData.buttons : []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    });
    if (buttons.length && state.transcript.length === 0) {
      renderQuickReplies({ quickReplies: buttons });
    }
  }

  function renderTranscript() {
    state.lastBot = null;
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
    state.lastBot = null;
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
      state.lastBot = { entry: entry, node: renderMessage(entry) };
    }
    var custom = data.custom;
    if (custom && typeof custom === "object" && custom.escalation &&
        typeof custom.escalation === "object") {
      receiveEscalation(custom.escalation);
    }
    scrollToEnd();
  }

  /** An escalation payload: its text came just before as a message; show that text once, as the
   * banner under the payload's headline (no second copy of the action). */
  function receiveEscalation(payload) {
    var headline = typeof payload.headline === "string" ? payload.headline : "";
    var tier = String(payload.tier || "");
    var last = state.lastBot;
    state.lastBot = null;
    var entry;
    if (last && headline && last.entry.text.indexOf(headline) === 0 &&
        !(last.entry.quickReplies && last.entry.quickReplies.length) &&
        last.node.parentNode === elements.messages) {
      elements.messages.removeChild(last.node);
      entry = last.entry;
      entry.kind = "escalation";
      entry.tier = tier;
      entry.headline = headline;
      delete entry.quickReplies;
      delete entry.active;
      save(TRANSCRIPT_KEY, state.transcript);
    } else {
      entry = { kind: "escalation", tier: tier, headline: headline, text: "",
        action: typeof payload.action === "string" ? payload.action : "" };
      remember(entry);
    }
    renderEscalation(entry, true);
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

  function fetchJson(name) {
    return window.fetch(name, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(name + ": HTTP " + response.status);
        }
        return response.json();
      });
  }

  function loadConfig() {
    return fetchJson("config.json");
  }

  /** The page's words (content.json); without them the chat still works, unlabelled. */
  function loadContent() {
    return fetchJson("content.json").then(function (content) {
      return content && typeof content === "object" ? content : null;
    }, function () {
      return null;
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
    elements.source = document.getElementById("chat-source");
    elements.note = document.getElementById("chat-note");

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

    // the page's words first (header, welcome), so the page is complete before anyone can send
    loadContent().then(function (content) {
      state.content = content;
      renderHeader();
      renderTranscript();
      return loadConfig();
    }).then(connect).catch(function () {
      setStatus("The chat could not load its settings. Please reload the page.", "error");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
