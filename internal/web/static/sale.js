// liveloop — the sales cards of the chat page: a flash sale's countdown
// (from the server's start time and clock; the server judges every claim),
// its claim button and live stock; a chain order's join and cancel buttons
// and its live list. Member text only ever goes in with textContent.
(function () {
  "use strict";

  function once() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // post sends a card's form as the browser would, asking for JSON. The
  // form's one-time id (made with the page) goes with it and is renewed
  // once the server has answered: a second click while the first is on
  // its way is the same request, a click after it a new one.
  function post(form, extra) {
    var body = new URLSearchParams(new FormData(form));
    Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
    var id = form.querySelector("input[data-once]");
    return fetch(form.action, { method: "POST", body: body, headers: { "Accept": "application/json" } }).then(function (r) {
      if (id) id.value = once();
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    });
  }

  // submit sends the form the plain way (when fetch failed), with the
  // values a script post would have added (the clicked option).
  function submit(form, extra) {
    Object.keys(extra || {}).forEach(function (k) {
      var input = form.querySelector('input[type=hidden][name="' + k + '"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = k;
        form.appendChild(input);
      }
      input.value = extra[k];
    });
    form.submit();
  }

  function showError(el, text) {
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
  }

  // Flash sales.
  var flashes = [];
  document.querySelectorAll("[data-flash]").forEach(function (card) {
    var f = {
      card: card,
      starts: Number(card.dataset.starts),
      skew: Number(card.dataset.now) - Date.now(), // server clock − this clock
      button: card.querySelector("[data-flash-button]"),
      clock: card.querySelector("[data-flash-clock]"),
      countdown: card.querySelector("[data-flash-countdown]"),
      left: card.querySelector("[data-flash-left]"),
      done: card.querySelector("[data-flash-done]"),
      error: card.querySelector("[data-flash-error]")
    };
    flashes.push(f);
    var form = card.querySelector("form[data-flash-claim]");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      f.button.disabled = true;
      showError(f.error, "");
      post(form).then(function (res) {
        if (!res.ok) {
          showError(f.error, res.body.message || res.body.error);
        } else {
          f.done.hidden = false;
          setLeft(f, res.body.left);
        }
        f.button.disabled = card.dataset.state !== "open";
      }).catch(function () { form.submit(); });
    });
  });

  function setLeft(f, n) {
    if (typeof n !== "number") return;
    f.left.textContent = f.left.textContent.replace(/\d+/, String(n));
  }

  function tick() {
    flashes.forEach(function (f) {
      if (f.card.dataset.state !== "upcoming") return;
      var ms = f.starts - (Date.now() + f.skew);
      if (ms > 0) {
        f.clock.textContent = clock(ms);
        return;
      }
      f.card.dataset.state = "open";
      f.countdown.hidden = true;
      f.button.disabled = false;
    });
  }
  if (flashes.length) {
    tick();
    setInterval(tick, 250);
  }

  // Chain orders.
  document.querySelectorAll("[data-chain]").forEach(function (card) {
    var join = card.querySelector("form[data-chain-join]");
    var cancel = card.querySelector("form[data-chain-cancel]");
    var error = card.querySelector("[data-chain-error]");
    join.addEventListener("click", function (e) {
      var btn = e.target.closest("button[name=option]");
      if (!btn) return;
      e.preventDefault();
      showError(error, "");
      post(join, { option: btn.value }).then(function (res) {
        if (!res.ok) showError(error, res.body.message || res.body.error);
      }).catch(function () { submit(join, { option: btn.value }); });
    });
    join.addEventListener("submit", function (e) { e.preventDefault(); });
    cancel.addEventListener("submit", function (e) {
      e.preventDefault();
      showError(error, "");
      post(cancel).then(function (res) {
        if (!res.ok) showError(error, res.body.message || res.body.error);
      }).catch(function () { cancel.submit(); });
    });
  });

  function showChain(c) {
    var card = document.querySelector('[data-chain="' + Number(c.id) + '"]');
    if (!card) return;
    card.querySelector("[data-chain-people]").textContent = String(c.participants);
    card.querySelector("[data-chain-units]").textContent = String(c.units);
    card.querySelector("[data-chain-prices]").textContent = (c.prices || []).join(" / ");
    var list = card.querySelector("[data-chain-lines]");
    var me = Number(list.dataset.me);
    list.textContent = "";
    (c.lines || []).forEach(function (l) {
      var li = document.createElement("li");
      li.textContent = l.name + " " + l.label + " ×" + l.qty;
      if (l.member_id === me) li.className = "mine";
      list.appendChild(li);
    });
    if (c.closed) card.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }

  function showFlash(v) {
    flashes.forEach(function (f) {
      if (Number(f.card.dataset.flash) !== v.id) return;
      setLeft(f, v.left);
      if (v.state === "soldout" || v.state === "ended") {
        f.card.dataset.state = v.state;
        f.button.disabled = true;
      }
    });
  }

  // Frames from the chat's socket (app.js hands them over).
  document.addEventListener("ll:frame", function (e) {
    var f = e.detail || {};
    if (f.type === "flash" && f.flash) showFlash(f.flash);
    else if (f.type === "chain" && f.chain) showChain(f.chain);
  });
})();
