/* Progressive enhancement for the dashboard. Every page works without this file. */
(function () {
  "use strict";

  /* A route of the web function as a URL path. The dashboard may live under a prefix of its
     host (every function on one host, this one at /web): the server writes that prefix into
     <html data-base>, and every URL built here starts with it. */
  function route(path) {
    return (document.documentElement.getAttribute("data-base") || "") + path;
  }

  function csrfOf(form) {
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  /* Chat: send through fetch and append the answer, without reloading the page. */
  function enhanceChat(form) {
    var list = document.getElementById("conversation");
    var status = document.getElementById("chat-status");
    var message = form.querySelector("textarea[name=message]");
    var conversation = form.querySelector("input[name=conversation_id]");
    var button = form.querySelector("button[type=submit]");

    function addTurn(role, text) {
      var empty = document.getElementById("no-messages");
      if (empty) { empty.remove(); }
      var previous = document.getElementById("latest");
      if (previous) { previous.removeAttribute("id"); }
      var item = document.createElement("li");
      item.className = "turn " + role;
      item.id = "latest";
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = role === "user" ? "You" : "Planner";
      var body = document.createElement("div");
      body.className = "text";
      body.textContent = text;  /* text, never HTML: a reply cannot inject markup */
      item.appendChild(who);
      item.appendChild(body);
      list.appendChild(item);
      item.scrollIntoView({block: "nearest"});
    }

    form.addEventListener("submit", function (event) {
      var text = message.value.trim();
      if (!text || !window.fetch) { return; }  /* let the browser post the form */
      event.preventDefault();
      button.disabled = true;
      status.textContent = "The planner is thinking…";
      addTurn("user", text);
      fetch(route("/api/chat"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfOf(form)},
        body: JSON.stringify({message: text, conversation_id: conversation.value || null})
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) {
          status.textContent = (result.body && result.body.error && result.body.error.message) || "The message was not sent.";
          return;
        }
        conversation.value = result.body.conversation_id;
        addTurn("assistant", result.body.reply);
        message.value = "";
        status.textContent = "";
      }).catch(function () {
        status.textContent = "The message could not be sent; check your connection and try again.";
      }).then(function () {
        button.disabled = false;
        message.focus();
      });
    });

    message.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });
  }

  /* Onboarding: preselect the browser's time zone while the form still shows the default. */
  function detectTimezone(select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || select.value !== "UTC" || zone === "UTC") { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.value = zone;
        var hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = "Detected from your browser: " + zone + ".";
        select.parentNode.appendChild(hint);
        return;
      }
    }
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var chat = document.getElementById("chat-form");
    if (chat) { enhanceChat(chat); }
    document.querySelectorAll("select[data-detect-timezone]").forEach(detectTimezone);
    confirmForms();
  });
})();
