/*
 * The foot-cramp assistant's chat widget: plain JavaScript, no framework. One code base for both
 * ways it is shown:
 *
 *   on any site:   <script src="https://<assistant>/widget.js" async></script>
 *                  a launcher button (bottom right; data-side="left" for the left corner) opens
 *                  the chat panel; on a phone (under 480 px) the panel fills the screen
 *   full page:     web/src/index.html loads the same widget.js with data-mode="page"
 *
 * scripts/build_widget.py wraps this file into dist/widget.js together with the pinned socket.io
 * client, the stylesheet (chat.css) and the widget's words (CONTENT, built from the project's data:
 * channels/data/widget.yml, the source line, the greeting). Inside that wrapper `io`, `CONTENT`
 * and `STYLES` are local variables: the widget defines no global name at all.
 *
 * A good guest on someone else's page: everything lives in a Shadow DOM (the host page's CSS
 * cannot reach in, ours cannot reach out; `:host { all: initial }` stops inherited styles), the
 * styles are a constructable stylesheet (no inline <style>, so a strict style-src works), the
 * script runs async and adds only fixed-position elements (no layout shift), and it never uses
 * eval or inline handlers.
 *
 * Talks to Rasa's socket.io channel (channels.socketio.SocketIOChannel, session_persistence on):
 *   connect -> emit "session_request" {session_id}  -> "session_confirm" (id)
 *   send    -> emit "user_uttered" {message, session_id}
 *   receive <- "bot_uttered" {text, quick_replies?} or {custom: {escalation: {tier, headline, action}}}
 * The server address is data-server, else config.json next to widget.js (what `make run` serves).
 *
 * Safety rules kept throughout: message content is only ever put into the page with textContent
 * or createTextNode (never innerHTML), links are <a> elements built with createElement and only
 * for http(s) URLs, and nothing is sent while the socket is not connected (no silent queue). An
 * escalation opens the panel: an emergency never sits behind a closed launcher.
 *
 * The session id and the transcript live in the host site's localStorage, so the conversation
 * continues across the site's pages and reloads; "New conversation" starts a fresh id. On a host
 * page the socket is opened only once the panel is opened (or was open on the previous page).
 */
/* global io, CONTENT, STYLES */
(function (io, CONTENT, STYLES) {
  "use strict";

  var HOST_ATTRIBUTE = "data-cramps-chat";
  var SESSION_KEY = "cramps-chat.session-id";
  var TRANSCRIPT_KEY = "cramps-chat.transcript";
  var OPEN_KEY = "cramps-chat.open"; // sessionStorage: the panel stays open across the site's pages
  var MAX_TRANSCRIPT = 300; // entries kept in localStorage
  var TYPING_TIMEOUT_MS = 30000; // hide the typing indicator if no reply comes by then
  var PHONE_QUERY = "(max-width: 479.98px)"; // the panel fills the screen below 480 px
  var KNOWN_TIERS = ["emergency", "urgent", "see_doctor"]; // banner colours only (chat.css)
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;
  var SVG = "http://www.w3.org/2000/svg";

  var script = document.currentScript;
  if (!script || !/widget\.js(\?|#|$)/.test(script.src || "")) {
    script = document.querySelector("script[src*='widget.js']");
  }

  var content = CONTENT && typeof CONTENT === "object" ? CONTENT : {};
  var words = content.ui || {};
  var options = {
    mode: attribute("data-mode") === "page" ? "page" : "launcher",
    side: attribute("data-side") === "left" ? "left" : "right",
    server: attribute("data-server"),
    socketPath: attribute("data-socket-path") || "/socket.io"
  };

  var elements = {};
  var state = {
    socket: null,
    sessionId: null,
    transcript: [],
    connected: false, // socket connected and session confirmed: sending is allowed
    everConnected: false,
    started: false, // the socket was asked for (on a host page: once the panel was opened)
    open: false,
    unread: 0,
    typingTimer: null,
    lastBot: null // the last bot message shown: {entry, node} (an escalation's text, until its payload)
  };

  function attribute(name) {
    var value = script ? script.getAttribute(name) : null;
    return value && value.trim() ? value.trim() : null;
  }

  /** A sentence of the widget's own, from the data (channels/data/widget.yml). */
  function say(key) {
    return typeof words[key] === "string" ? words[key] : "";
  }

  // ---------- storage (fails soft: private windows may refuse storage) ----------

  function load(key, fallback, storage) {
    try {
      var raw = (storage || window.localStorage).getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value, storage) {
    try {
      storage = storage || window.localStorage;
      if (value === null) {
        storage.removeItem(key);
      } else {
        storage.setItem(key, JSON.stringify(value));
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

  // ---------- building the DOM (createElement only) ----------

  function make(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** The launcher's speech-bubble icon (decorative). */
  function bubbleIcon() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function applyStyles(root) {
    var sheetsWork = "adoptedStyleSheets" in Document.prototype &&
      typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype;
    if (sheetsWork && typeof STYLES === "string") {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      root.adoptedStyleSheets = [sheet];
    } else if (script && script.src) {
      // older browsers: the same stylesheet as a file next to widget.js (style-src must allow it)
      root.appendChild(make("link", { rel: "stylesheet", href: new URL("widget.css", script.src).href }));
    }
  }

  function build() {
    var page = options.mode === "page";
    var host = make("div", {});
    host.setAttribute(HOST_ATTRIBUTE, options.mode);
    var root = host.attachShadow({ mode: "open" });
    applyStyles(root);

    var frame = make("div", {
      "class": "root root--" + options.mode + " root--" + options.side,
      lang: content.lang || null
    });

    elements.title = make("h" + (page ? "1" : "2"), { "class": "chat-title", id: "chat-title" },
      [say("title")]);
    elements.source = make("p", { "class": "chat-source", id: "chat-source", hidden: true });
    elements.note = make("p", { "class": "chat-note", id: "chat-note", hidden: true });
    elements.reset = make("button", {
      type: "button", "class": "button button--secondary", id: "new-conversation"
    }, [say("new_conversation")]);
    var actions = make("div", { "class": "chat-header__actions" }, [elements.reset]);
    if (!page) {
      elements.close = make("button", {
        type: "button", "class": "button button--secondary chat-close", id: "close-chat",
        "aria-label": say("close_label")
      }, [say("close")]);
      actions.appendChild(elements.close);
    }
    var header = make("header", { "class": "chat-header" }, [
      make("div", { "class": "chat-header__text" }, [elements.title, elements.source, elements.note]),
      actions
    ]);

    elements.status = make("p", { "class": "status", id: "status", role: "status", "aria-live": "polite" },
      [say("status_connecting")]);
    elements.messages = make("div", {
      "class": "messages", id: "messages", role: "log", "aria-live": "polite",
      "aria-relevant": "additions", "aria-label": say("log_label"), tabindex: "0"
    });
    var dots = make("span", { "class": "typing__dots", "aria-hidden": "true" },
      [make("span"), make("span"), make("span")]);
    elements.typing = make("p", { "class": "typing", id: "typing", hidden: true },
      [dots, make("span", { "class": "typing__text" }, [say("typing")])]);
    var main = make(page ? "main" : "div", { "class": "chat-main" }, [elements.messages, elements.typing]);

    elements.input = make("input", {
      "class": "composer__input", id: "message-input", name: "message", type: "text",
      maxlength: "1000", placeholder: say("placeholder"), enterkeyhint: "send", autocomplete: "off"
    });
    elements.send = make("button", {
      "class": "button button--primary composer__send", id: "send-button", type: "submit",
      "aria-label": say("send_label"), disabled: true
    }, [say("send")]);
    elements.composer = make("form", { "class": "composer", id: "composer", autocomplete: "off", novalidate: true }, [
      make("label", { "class": "composer__label", "for": "message-input" }, [say("input_label")]),
      make("div", { "class": "composer__row" }, [elements.input, elements.send])
    ]);

    elements.panel = make(page ? "div" : "section", {
      "class": "chat", id: "chat-panel", "aria-labelledby": "chat-title",
      role: page ? null : "dialog", hidden: !page
    }, [header, elements.status, main, elements.composer]);

    if (!page) {
      elements.unreadMark = make("span", { "class": "launcher__unread", "aria-hidden": "true", hidden: true });
      elements.launcher = make("button", {
        type: "button", "class": "launcher", id: "launcher", "aria-label": say("launcher_label"),
        "aria-expanded": "false", "aria-controls": "chat-panel"
      }, [bubbleIcon(), make("span", { "class": "launcher__text" }, [say("launcher_text")]),
        elements.unreadMark]);
      // announces replies that arrive while the panel is closed (the log inside is hidden then)
      elements.announcer = make("p", { "class": "visually-hidden", role: "status", "aria-live": "polite" });
      frame.appendChild(elements.launcher);
      frame.appendChild(elements.announcer);
    }
    frame.appendChild(elements.panel);
    root.appendChild(frame);
    elements.root = root;
    document.body.appendChild(host);
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

  function speaker(from) {
    return make("span", { "class": "visually-hidden" },
      [say(from === "user" ? "you_said" : "assistant_said") + " "]);
  }

  function renderMessage(entry) {
    var item = make("div", { "class": "message message--" + (entry.from === "user" ? "user" : "bot") },
      [speaker(entry.from)]);
    var body = make("p", { "class": "message__text" });
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
    var group = make("div", { "class": "quick-replies", role: "group", "aria-label": say("quick_replies_label") });
    entry.quickReplies.forEach(function (reply) {
      var button = make("button", { type: "button", "class": "button quick-reply" }, [reply.title]);
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
    var banner = make("div", {
      "class": "message message--bot escalation escalation--" + tier,
      role: live ? "alert" : "note", "data-tier": tier
    }, [speaker("bot")]);
    if (typeof entry.headline === "string" && entry.headline) {
      banner.appendChild(make("p", { "class": "escalation__headline" }, [entry.headline]));
    }
    var body = make("p", { "class": "message__text escalation__text" });
    appendTextWithLinks(body, escalationBody(entry));
    banner.appendChild(body);
    elements.messages.appendChild(banner);
    return banner;
  }

  /** The header's source and note (the same words as every channel). */
  function renderHeader() {
    [["source", elements.source], ["note", elements.note]].forEach(function (pair) {
      var text = typeof content[pair[0]] === "string" ? content[pair[0]] : "";
      pair[1].textContent = text;
      pair[1].hidden = !text;
    });
  }

  /** The assistant's greeting, with its buttons while nothing was said yet. */
  function renderWelcome() {
    var welcomeData = content.welcome;
    if (!welcomeData || typeof welcomeData.text !== "string" || !welcomeData.text) {
      return;
    }
    var welcome = make("div", { "class": "message message--bot message--welcome" }, [speaker("bot")]);
    welcome.appendChild(make("p", { "class": "message__text" }, [welcomeData.text]));
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

  // ---------- the launcher and the panel ----------

  function isPhone() {
    return window.matchMedia ? window.matchMedia(PHONE_QUERY).matches : window.innerWidth < 480;
  }

  function setUnread(count) {
    state.unread = count;
    if (!elements.launcher) {
      return;
    }
    elements.unreadMark.hidden = count === 0;
    elements.launcher.setAttribute("aria-label", say(count ? "launcher_unread_label" : "launcher_label"));
  }

  function openPanel(moveFocus) {
    if (options.mode === "page" || state.open) {
      return;
    }
    state.open = true;
    save(OPEN_KEY, true, window.sessionStorage);
    elements.panel.hidden = false;
    elements.launcher.hidden = true;
    elements.launcher.setAttribute("aria-expanded", "true");
    elements.panel.setAttribute("aria-modal", isPhone() ? "true" : "false");
    setUnread(0);
    startChat();
    scrollToEnd();
    if (moveFocus) {
      elements.input.focus();
    }
  }

  function closePanel() {
    if (options.mode === "page" || !state.open) {
      return;
    }
    state.open = false;
    save(OPEN_KEY, null, window.sessionStorage);
    elements.panel.hidden = true;
    elements.launcher.hidden = false;
    elements.launcher.setAttribute("aria-expanded", "false");
    elements.launcher.focus();
  }

  /** The panel's focusable elements, in order (for the phone's focus trap). */
  function focusables() {
    var nodes = elements.panel.querySelectorAll("button, input, [href], [tabindex]:not([tabindex='-1'])");
    return Array.prototype.filter.call(nodes, function (node) {
      return !node.disabled && !node.hidden && node.getClientRects().length > 0;
    });
  }

  function onPanelKey(event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      closePanel();
      return;
    }
    if (event.key !== "Tab" || !isPhone()) {
      return;
    }
    // full screen on a phone: focus stays inside the panel
    var nodes = focusables();
    if (!nodes.length) {
      return;
    }
    var active = elements.root.activeElement;
    var first = nodes[0];
    var last = nodes[nodes.length - 1];
    if (event.shiftKey && (active === first || nodes.indexOf(active) < 0)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || nodes.indexOf(active) < 0)) {
      event.preventDefault();
      first.focus();
    }
  }

  /** A reply arrived: if the panel is closed, mark the launcher and tell screen readers. */
  function noteReply() {
    if (options.mode === "page" || state.open) {
      return;
    }
    setUnread(state.unread + 1);
    elements.announcer.textContent = "";
    window.setTimeout(function () {
      elements.announcer.textContent = say("reply_announcement");
    }, 50);
  }

  // ---------- status, typing, sending ----------

  function setStatus(key, kind) {
    var text = key ? say(key) : "";
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
        setStatus("status_no_reply", "warning");
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
      setStatus("status_not_sent", "error");
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
      });
      retireQuickReplies();
      var entry = { kind: "message", from: "bot", text: data.text, quickReplies: replies, active: replies.length > 0 };
      remember(entry);
      state.lastBot = { entry: entry, node: renderMessage(entry) };
      scrollToEnd();
      noteReply();
    }
    var escalation = data.custom && data.custom.escalation;
    if (escalation && typeof escalation === "object") {
      showEscalation(escalation);
    }
  }

  /** The escalation payload: the message just shown (its text) becomes the banner. */
  function showEscalation(escalation) {
    var text = "";
    if (state.lastBot && state.lastBot.entry.from === "bot") {
      text = state.lastBot.entry.text;
      var index = state.transcript.indexOf(state.lastBot.entry);
      if (index >= 0) {
        state.transcript.splice(index, 1);
      }
      if (state.lastBot.node.parentNode) {
        state.lastBot.node.parentNode.removeChild(state.lastBot.node);
      }
    }
    state.lastBot = null;
    var entry = {
      kind: "escalation",
      tier: escalation.tier,
      headline: escalation.headline,
      action: escalation.action,
      text: text
    };
    remember(entry);
    // an emergency never sits behind a closed launcher
    openPanel(false);
    renderEscalation(entry, true);
    scrollToEnd();
  }

  // ---------- the socket ----------

  function requestSession() {
    state.socket.emit("session_request", { session_id: state.sessionId });
  }

  function connect(config) {
    if (typeof io !== "function") {
      setStatus("status_no_client", "error");
      return;
    }
    var socket = io(config.socketUrl, {
      path: config.socketPath || "/socket.io",
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000
    });
    state.socket = socket;

    socket.on("connect", function () {
      setStatus("status_connecting", "info");
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
      setStatus("status_lost", "error");
    });
    socket.on("connect_error", function () {
      setConnected(false);
      setStatus(state.everConnected ? "status_reconnecting" : "status_unreachable", "error");
    });
    socket.io.on("reconnect_attempt", function () {
      setStatus("status_reconnecting", "error");
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
      setStatus("status_new_conversation", "info");
      state.socket.disconnect();
      state.socket.connect();
    }
    elements.input.value = "";
    elements.input.focus();
  }

  /** Where Rasa's socket.io channel is: data-server, else config.json next to widget.js. */
  function loadConfig() {
    if (options.server) {
      return Promise.resolve({ socketUrl: options.server, socketPath: options.socketPath });
    }
    var where = script && script.src ? new URL("config.json", script.src).href : "config.json";
    return window.fetch(where, { cache: "no-store", credentials: "omit" }).then(function (response) {
      if (!response.ok) {
        throw new Error("config.json: HTTP " + response.status);
      }
      return response.json();
    });
  }

  /** Opens the socket once (on a host page: when the panel is first opened). */
  function startChat() {
    if (state.started) {
      return;
    }
    state.started = true;
    setStatus("status_connecting", "info");
    loadConfig().then(connect).catch(function () {
      setStatus("status_no_settings", "error");
    });
  }

  function start() {
    if (document.querySelector("[" + HOST_ATTRIBUTE + "]")) {
      return; // the tag was pasted twice: one widget is enough
    }
    build();

    var stored = load(SESSION_KEY, null);
    state.sessionId = validSessionId(stored) ? stored : newSessionId();
    save(SESSION_KEY, state.sessionId);
    var transcript = load(TRANSCRIPT_KEY, []);
    state.transcript = Array.isArray(transcript) ? transcript.filter(function (entry) {
      return entry && typeof entry === "object" &&
        (entry.kind === "escalation" || typeof entry.text === "string");
    }) : [];
    renderHeader();
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

    if (options.mode === "page") {
      startChat();
      return;
    }
    elements.launcher.addEventListener("click", function () {
      openPanel(true);
    });
    elements.close.addEventListener("click", closePanel);
    elements.panel.addEventListener("keydown", onPanelKey);
    if (window.matchMedia) {
      var phone = window.matchMedia(PHONE_QUERY);
      var onChange = function () {
        if (state.open) {
          elements.panel.setAttribute("aria-modal", phone.matches ? "true" : "false");
        }
      };
      if (phone.addEventListener) {
        phone.addEventListener("change", onChange);
      }
    }
    if (load(OPEN_KEY, false, window.sessionStorage) === true) {
      openPanel(false); // it was open on the site's previous page
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(typeof io !== "undefined" ? io : undefined,
  typeof CONTENT !== "undefined" ? CONTENT : {},
  typeof STYLES !== "undefined" ? STYLES : undefined);
