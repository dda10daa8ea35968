// Relais console: live updates by short polling, reply preview, canned replies. No framework.
(function () {
  "use strict";
  var body = document.body;
  var pollUrl = body.dataset.poll;
  var pollMs = parseInt(body.dataset.pollMs || "1000", 10);
  var newestOpen = parseInt(body.dataset.newestOpen || "0", 10);
  var onDuty = body.dataset.onDuty === "1";
  var baseTitle = document.title;
  var csrf = (document.querySelector("input[name=csrf_token]") || {}).value || "";

  function setCounts(counts) {
    if (!counts) return;
    var badge = document.getElementById("badge-open");
    if (badge) badge.textContent = counts.open ? String(counts.open) : "";
    document.querySelectorAll("[data-count]").forEach(function (el) {
      var value = counts[el.dataset.count];
      if (value !== undefined) el.textContent = String(value);
    });
    document.title = (counts.open ? "(" + counts.open + ") " : "") + baseTitle;
  }

  function noticeNewest(id) {
    if (id > newestOpen) {  // a ticket opened since this page was rendered
      var alert = document.getElementById("new-alert");
      if (alert && onDuty) alert.hidden = false;
      newestOpen = id;
    }
  }

  function poll() {
    if (!pollUrl) return;
    var url = pollUrl;
    var thread = document.getElementById("thread");
    if (thread) url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + (body.dataset.lastMessageId || "0");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/console/login"; throw new Error("logged out"); }
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        setCounts(data.counts);
        if (data.newest_open !== undefined) noticeNewest(data.newest_open);
        var queue = document.getElementById("queue");
        if (queue && data.html !== undefined && !thread) {
          var before = {};
          queue.querySelectorAll("[data-ticket-id]").forEach(function (li) { before[li.dataset.ticketId] = true; });
          var hadFocus = document.activeElement && queue.contains(document.activeElement)
            ? document.activeElement.getAttribute("href") : null;
          queue.innerHTML = data.html;  // rendered and escaped by the server
          queue.querySelectorAll("[data-ticket-id]").forEach(function (li) {
            if (!before[li.dataset.ticketId]) li.classList.add("fresh");
          });
          if (hadFocus) {
            var again = queue.querySelector('a[href="' + hadFocus + '"]');
            if (again) again.focus();
          }
        }
        if (thread && data.html) {
          var atBottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 20;
          thread.insertAdjacentHTML("beforeend", data.html);  // rendered and escaped by the server
          body.dataset.lastMessageId = String(data.last_message_id);
          if (atBottom) thread.scrollTop = thread.scrollHeight;
        }
        if (thread && data.status) {
          var changed = data.status !== body.dataset.ticketStatus
            || String(data.assignee_id || "") !== body.dataset.ticketAssignee;
          var warn = document.getElementById("status-changed");
          if (warn && changed) warn.hidden = false;
        }
      })
      .catch(function () {})
      .finally(function () { window.setTimeout(poll, pollMs); });
  }

  // Reply preview: the server prepares the text exactly as the SMS will carry it.
  var textarea = document.getElementById("reply-body");
  var timer = null;
  function preview() {
    var form = new FormData();
    form.append("body", textarea.value);
    form.append("channel", textarea.dataset.channel || "sms");
    form.append("csrf_token", csrf);
    fetch("/console/api/preview", { method: "POST", body: form, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        var count = document.getElementById("preview-count");
        var text = document.getElementById("preview-text");
        var help = document.getElementById("preview-help");
        if (p.segments === null) {
          count.textContent = p.chars + " caractères";
          return;
        }
        count.textContent = p.segments + " SMS · " + p.chars + " caractères · " + p.encoding;
        count.classList.toggle("many", p.segments > 1 || p.encoding !== "GSM-7");
        help.textContent = p.changed ? "Le résident recevra :" : "";
        text.hidden = !p.changed;
        text.textContent = p.text;  // textContent: never interpreted as HTML
      })
      .catch(function () {});
  }
  if (textarea) {
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(preview, 150);
    });
    textarea.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        document.getElementById("reply-form").requestSubmit();
      }
    });
    var canned = document.getElementById("canned");
    if (canned) {
      canned.addEventListener("change", function () {
        if (!canned.value) return;
        textarea.value = textarea.value ? textarea.value + "\n" + canned.value : canned.value;
        canned.value = "";
        textarea.focus();
        preview();
      });
    }
  }
  var thread = document.getElementById("thread");
  if (thread) thread.scrollTop = thread.scrollHeight;
  if (pollUrl) window.setTimeout(poll, pollMs);
})();
