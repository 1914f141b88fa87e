// liveloop — the few behaviours the pages need, in plain JavaScript.
// Member text is only ever put into the page with textContent.
(function () {
  "use strict";

  // Forms that ask before they act, selects that submit on change.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    if (sel.hasAttribute("data-next-here")) {
      var next = sel.form.querySelector("input[name=next]");
      if (next) next.value = location.pathname + location.search;
    }
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  document.querySelectorAll("input[data-join-url]").forEach(function (inp) {
    inp.addEventListener("focus", function () { inp.select(); });
  });

  // One-time ids for forms that must act once (a double click redeems once).
  document.querySelectorAll("input[data-once]").forEach(function (inp) {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    inp.value = Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  });

  // Poll buttons vote without leaving the page; the live tally (a "poll"
  // frame) updates the counts for everyone.
  document.querySelectorAll("form[data-vote]").forEach(function (form) {
    form.addEventListener("click", function (e) {
      var btn = e.target.closest("button[name=choice]");
      if (!btn) return;
      e.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      body.set("choice", btn.value);
      fetch(form.action, { method: "POST", body: body, headers: { "Accept": "application/json" } }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { window.alert(j.message || r.statusText); return; }
          form.querySelectorAll("button[name=choice]").forEach(function (b) { b.classList.toggle("chosen", b === btn); });
        });
      }).catch(function () { form.submit(); });
      var once = form.querySelector("input[data-once]");
      if (once) once.value = newOnce();
    });
  });
  function newOnce() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function showTally(p) {
    var card = document.querySelector('[data-poll="' + Number(p.id) + '"]');
    if (!card) return;
    (p.counts || []).forEach(function (n, i) {
      var c = card.querySelector('[data-count="' + (i + 1) + '"]');
      if (c) c.textContent = String(n);
      var pct = card.querySelector('[data-percent="' + (i + 1) + '"]');
      if (pct) pct.textContent = String(p.pct[i]);
    });
    var total = card.querySelector("[data-total]");
    if (total) total.textContent = String(p.total);
    if (p.closed) card.querySelectorAll("button[name=choice]").forEach(function (b) { b.disabled = true; });
  }

  // The live room's state: the product on show and the coupons left.
  function showLive(v) {
    var card = document.querySelector("[data-product]");
    if (card) {
      card.hidden = !v.product;
      if (v.product) {
        card.querySelector("[data-product-name]").textContent = v.product.Name;
        card.querySelector("[data-product-price]").textContent = String(v.product.LivePrice);
        card.querySelector("[data-product-stock]").textContent = String(v.product.Stock);
      }
    }
    var drops = document.querySelector("[data-drops]");
    (v.drops || []).forEach(function (d) {
      var el = document.querySelector('[data-drop="' + Number(d.id) + '"]');
      if (!el && drops) {
        // A drop announced while the page is open: built with text nodes.
        el = document.createElement("form");
        el.method = "post";
        el.action = drops.dataset.claim + Number(d.id) + "/claim";
        el.className = "card drop";
        el.dataset.drop = String(Number(d.id));
        var title = document.createElement("strong");
        title.textContent = d.title;
        var left = document.createElement("span");
        left.dataset.left = "";
        el.append(title, " ", left, " " + (drops.dataset.textLeft || ""));
        if (drops.dataset.member) {
          var btn = document.createElement("button");
          btn.textContent = drops.dataset.textClaim || "Claim";
          el.append(" ", btn);
        }
        drops.appendChild(el);
      }
      if (!el) return;
      el.querySelector("[data-left]").textContent = String(d.left);
      var b = el.querySelector("button");
      if (b) b.disabled = !d.open;
    });
    var st = document.querySelector("[data-live-state]");
    if (st && v.state) st.dataset.state = v.state;
  }

  var box = document.querySelector("[data-chat]");
  if (!box) return;

  var list = box.querySelector("[data-messages]");
  var form = box.querySelector("[data-composer]");
  var errorLine = box.querySelector("[data-error]");
  var status = document.querySelector("[data-status]");
  var last = parseInt(box.dataset.after || "0", 10);
  var me = box.dataset.me ? parseInt(box.dataset.me, 10) : 0;
  var pending = []; // frames to (re)send when connected
  var ws = null, retry = 0, stopped = false;

  function newID() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Times show in the brand's time zone, as the server renders history
  // ("2026-11-23 20:05"; the sv-SE locale formats exactly so).
  function localTime(at) {
    try {
      return new Date(at).toLocaleString("sv-SE", { timeZone: box.dataset.tz || undefined, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit" });
    } catch (_) {
      return new Date(at).toLocaleString();
    }
  }

  function setStatus(key) {
    var label = "text" + key.charAt(0).toUpperCase() + key.slice(1);
    if (status) status.textContent = box.dataset[label] || "";
    if (status) status.dataset.state = key;
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function atBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }

  function add(f) {
    if (f.type !== "message" || f.id <= last) return;
    last = f.id;
    var stick = atBottom();
    var li = document.createElement("li");
    li.className = "msg" + (f.staff ? " staff" : "") + (me && f.member_id === me ? " mine" : "");
    li.dataset.id = String(f.id);
    if (f.avatar && /^(https:\/\/|\/)/.test(f.avatar)) {
      var img = document.createElement("img");
      img.className = "avatar";
      img.alt = "";
      img.width = img.height = 20;
      img.src = f.avatar;
      li.appendChild(img);
    }
    var who = document.createElement("span");
    who.className = "sender";
    who.textContent = f.sender || "";
    var when = document.createElement("time");
    when.textContent = localTime(f.at);
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = f.text || "";
    li.append(who, when, text);
    list.appendChild(li);
    if (f.client_id) {
      pending = pending.filter(function (p) { return p.client_id !== f.client_id; });
    }
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + box.dataset.ws + "?after=" + last;
    ws = new WebSocket(url);
    ws.onopen = function () {
      retry = 0;
      setStatus("online");
      if (!box.dataset.send) pending.forEach(function (p) { ws.send(JSON.stringify(p)); });
    };
    ws.onmessage = function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      // A live room sends its comments in batches (a JSON array).
      (Array.isArray(data) ? data : [data]).forEach(handle);
    };
    function handle(f) {
      if (!f || typeof f !== "object") return;
      if (f.type === "message") add(f);
      else if (f.type === "poll" && f.poll) showTally(f.poll);
      else if (f.type === "live" && f.live) showLive(f.live);
      else if (f.type === "likes") {
        var lk = document.querySelector("[data-likes]");
        if (lk) lk.textContent = String(f.likes);
      }
      else if (f.type === "viewers") {
        var vw = document.querySelector("[data-viewers]");
        if (vw) { vw.textContent = String(f.viewers); vw.parentNode.hidden = false; }
      }
      else if (f.type === "error") showError(f.message || f.code);
      else if (f.type === "hidden") {
        var gone = list.querySelector('li[data-id="' + Number(f.id) + '"]');
        if (gone) gone.remove();
      }
      // Sales cards (sale.js) listen for their frames.
      else if (f.type === "flash" || f.type === "chain") document.dispatchEvent(new CustomEvent("ll:frame", { detail: f }));
      else if (f.type === "removed" && me && f.member_id === me) {
        stopped = true;
        setStatus("removed");
        form.hidden = true;
      }
    }
    ws.onclose = function () {
      ws = null;
      if (stopped) return;
      setStatus("offline");
      retry++;
      setTimeout(connect, Math.min(10000, 300 * Math.pow(2, retry)));
    };
  }

  // A staff send; a persona chosen in the composer speaks instead.
  function sendBody(clientID, text) {
    var b = { client_id: clientID, text: text };
    var persona = form.querySelector("select[name=persona]");
    if (persona) b.persona = parseInt(persona.value, 10) || 0;
    return b;
  }

  var likeButton = document.querySelector("[data-like]");
  if (likeButton) likeButton.addEventListener("click", function () {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "like" }));
  });

  list.scrollTop = list.scrollHeight;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var area = form.querySelector("textarea");
    var text = area.value;
    if (!text.trim()) return;
    showError("");
    var f = { type: "send", client_id: newID(), text: text };
    if (box.dataset.send) {
      // Staff post through the console endpoint (and so through the outbox).
      fetch(box.dataset.send, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf, "Accept": "application/json" },
        body: JSON.stringify(sendBody(f.client_id, text))
      }).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { showError(j.message || r.statusText); });
        area.value = "";
      }).catch(function (err) { showError(String(err)); });
      return;
    }
    pending.push(f);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(f));
    area.value = "";
  });
  form.querySelector("textarea").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  connect();
})();
