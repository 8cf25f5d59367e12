// The follower simulator page: renders the transcript kept by sandbox/simulator.py and sends what the
// follower does through its JSON API. Everything WeChat-specific (signing, retries) happens server-side.
"use strict";

const api = {
  async get(path) {
    const r = await fetch(`/simulator/api/${path}`);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  },
  async post(path, body) {
    const r = await fetch(`/simulator/api/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `${path}: HTTP ${r.status}`);
    return data;
  },
};

const $ = (id) => document.getElementById(id);
const state = { openid: "", lastSeq: 0, view: 0, subscribed: false, menu: null, busy: 0, accountName: "公众号", menuMode: false };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function avatar(side) {
  return el("div", { className: "avatar", textContent: side === "follower" ? "我" : "公" });
}

// Pictures on other hosts may not load (no network in a rehearsal): keep the grey box, not a broken icon.
function picture(src) {
  const img = el("img", { src, alt: "" });
  img.addEventListener("error", () => { img.style.visibility = "hidden"; });
  return img;
}

function newsCard(articles) {
  const wrap = el("div");
  const [first, ...rest] = articles;
  const card = el("a", { className: "news" + (rest.length ? " big" : ""), href: first.url || "#", target: "_blank", rel: "noopener" });
  card.dataset.testid = "news-card";
  if (rest.length) {
    if (first.picurl) card.append(picture(first.picurl));
    card.append(el("div", { className: "news-title", textContent: first.title }));
    for (const a of rest) {
      const row = el("a", { className: "news-more", href: a.url || "#", target: "_blank", rel: "noopener" },
        el("span", { style: "flex:1", textContent: a.title }));
      if (a.picurl) row.append(picture(a.picurl));
      card.append(row);
    }
  } else {
    card.append(el("div", { className: "news-title", textContent: first.title }));
    const body = el("div", { className: "news-body" }, el("div", { className: "news-desc", textContent: first.description || "" }));
    if (first.picurl) body.append(picture(first.picurl));
    card.append(body);
  }
  wrap.append(card);
  return wrap;
}

// A text as WeChat shows it: <a href> links are links (the server split them into parts), nothing
// else is markup. A mini program's link has no web address: shown as a link that goes nowhere here.
function textNodes(item) {
  if (!item.parts) return [item.text];
  return item.parts.map((p) => {
    if (!("href" in p)) return p.text;
    const a = el("a", { textContent: p.text, href: p.href || "#", target: "_blank", rel: "noopener" });
    a.dataset.testid = "link";
    return a;
  });
}

function renderItem(item) {
  if (item.side === "system") {
    const n = el("div", { className: "notice" + (item.type === "error" ? " error" : "") }, el("span", { textContent: item.text }));
    n.dataset.seq = item.seq;
    return n;
  }
  let content;
  if (item.type === "news") content = newsCard(item.articles);
  else if (item.type === "image") {
    content = el("div", { className: "bubble" },
      item.image_url ? el("img", { className: "image-reply", src: item.image_url, alt: "图片" }) : `[图片 ${item.media_id || ""}]`);
  } else content = el("div", { className: "bubble" }, ...textNodes(item));
  const body = el("div", {}, content, item.tag ? el("span", { className: "tag", textContent: item.tag }) : null);
  const row = el("div", { className: `msg ${item.side}` }, avatar(item.side), body);
  row.dataset.seq = item.seq;
  row.dataset.testid = item.side === "follower" ? "mine" : "theirs";
  return row;
}

function render(items) {
  const chat = $("chat");
  const atBottom = chat.scrollTop + chat.clientHeight >= chat.scrollHeight - 40;
  for (const item of items) {
    if (item.seq <= state.lastSeq) continue;
    chat.append(renderItem(item));
    state.lastSeq = item.seq;
  }
  if (items.length && (atBottom || items.some((i) => i.side === "follower"))) chat.scrollTop = chat.scrollHeight;
}

function renderMenu() {
  const menu = $("menu");
  menu.replaceChildren();
  const buttons = state.menu && state.menu.button;
  if (!buttons || !buttons.length) {
    menu.append(el("div", { className: "menu-empty", textContent: "公众号尚未设置菜单（运行 main.py menu sync 同步）" }));
    return;
  }
  for (const b of buttons) {
    const item = el("div", { className: "menu-item" });
    const top = el("button", { type: "button", textContent: b.name });
    item.append(top);
    const subs = b.sub_button && b.sub_button.length ? b.sub_button : null;
    if (subs) {
      item.classList.add("has-sub");
      const pop = el("div", { className: "sub", hidden: true });
      for (const s of subs) {
        const sb = el("button", { type: "button", textContent: s.name });
        sb.addEventListener("click", () => { pop.hidden = true; tap(s); });
        pop.append(sb);
      }
      item.append(pop);
      top.addEventListener("click", () => {
        const open = pop.hidden;
        for (const p of menu.querySelectorAll(".sub")) p.hidden = true;
        pop.hidden = !open;
      });
    } else {
      top.addEventListener("click", () => tap(b));
    }
    menu.append(item);
  }
}

function showBars() {
  $("follow-bar").hidden = state.subscribed;
  $("input-bar").hidden = !state.subscribed || state.menuMode;
  $("menu-bar").hidden = !state.subscribed || !state.menuMode;
  const t = $("follow-toggle");
  t.textContent = state.subscribed ? "取消关注" : "关注";
  t.classList.toggle("off", state.subscribed);
}

async function busy(fn) {
  state.busy++;
  $("send").disabled = true;
  try {
    await fn();
  } catch (e) {
    $("panel-status").textContent = `出错：${e.message}`;
  } finally {
    state.busy--;
    $("send").disabled = state.busy > 0;
    await poll();
  }
}

async function tap(button) {
  if (button.type === "view") {
    // WeChat opens the page and tells the server with a VIEW event; it does not wait for an answer.
    window.open(button.url, "_blank", "noopener");
    busy(() => api.post("event", { openid: state.openid, event: "view", key: button.url }));
    return;
  }
  if (button.type !== "click") {
    $("panel-status").textContent = `模拟器只支持 click 和 view 菜单（“${button.name}”是 ${button.type}）`;
    return;
  }
  busy(() => api.post("event", { openid: state.openid, event: "click", key: button.key }));
  setTimeout(poll, 150);
}

async function poll() {
  if (!state.openid) return;
  const openid = state.openid;
  const view = state.view;
  try {
    const data = await api.get(`chat?openid=${encodeURIComponent(openid)}&after=${state.lastSeq}`);
    // The chat was cleared (another follower, or the same one reloaded) while this poll was out: its
    // items start after a point the cleared chat no longer has, so drawing them would skip messages.
    if (view !== state.view) return;
    state.subscribed = data.subscribed;
    if (JSON.stringify(data.menu) !== JSON.stringify(state.menu)) {
      // Like WeChat: an account with a menu opens on the menu bar until the follower switches.
      if (!state.menuToggled) state.menuMode = Boolean(data.menu && data.menu.button && data.menu.button.length);
      state.menu = data.menu;
      renderMenu();
    }
    render(data.items);
    showBars();
  } catch (e) {
    $("panel-status").textContent = `连接本地平台失败：${e.message}`;
  }
}

async function selectFollower(openid) {
  state.openid = openid;
  state.view += 1;
  state.lastSeq = 0;
  $("chat").replaceChildren();
  const url = new URL(location.href);
  url.searchParams.set("openid", openid);
  history.replaceState(null, "", url);
  await poll();
}

async function loadFollowers(selected) {
  const data = await api.get("state");
  state.accountName = data.account.name;
  $("account-name").textContent = data.account.name;
  document.title = `${data.account.name} · 粉丝模拟器`;
  $("mode-note").textContent = data.mode === "plain" ? "（明文模式）" : `并加密（${data.mode === "safe" ? "安全" : "兼容"}模式）`;
  const sel = $("follower-select");
  sel.replaceChildren();
  for (const f of data.followers) {
    sel.append(el("option", { value: f.openid, textContent: `${f.openid}${f.subscribed ? "" : "（未关注）"}` }));
  }
  const want = selected || new URL(location.href).searchParams.get("openid") || (data.followers[0] || {}).openid;
  if (want) {
    sel.value = want;
    await selectFollower(want);
  }
}

$("follower-select").addEventListener("change", (e) => selectFollower(e.target.value));
$("create-follower").addEventListener("click", () => busy(async () => {
  const f = await api.post("followers", { openid: $("new-openid").value.trim() });
  $("new-openid").value = "";
  await loadFollowers(f.openid);
}));
const toggleFollow = () => busy(async () => {
  if (!state.openid) {
    const f = await api.post("followers", { openid: "" });
    await loadFollowers(f.openid);
  }
  const event = state.subscribed ? "unsubscribe" : "subscribe";
  const pending = api.post("event", { openid: state.openid, event });
  setTimeout(poll, 150);
  await pending;
  await loadFollowers(state.openid);
});
$("follow-toggle").addEventListener("click", toggleFollow);
$("follow-big").addEventListener("click", toggleFollow);
$("send-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.openid) return;
  $("text").value = "";
  busy(() => api.post("send", { openid: state.openid, text }));
  setTimeout(poll, 150);  // the follower's own bubble appears at once, the reply when it comes
});
$("to-menu").addEventListener("click", () => { state.menuMode = true; state.menuToggled = true; showBars(); });
$("to-input").addEventListener("click", () => { state.menuMode = false; state.menuToggled = true; showBars(); });

// Customer-service messages and broadcasts arrive without the follower doing anything: poll for them.
setInterval(poll, 1000);
loadFollowers().catch((e) => { $("panel-status").textContent = `连接本地平台失败：${e.message}`; });
