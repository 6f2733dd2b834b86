// The client chat (run once by Gradio's js_on_load with `element` and `props`).
// The server renders every answer card (escaped HTML); this script sends questions to
// /chat/ask, shows each answer as soon as it is ready (or as the model writes it, in LLM
// mode), queues a question sent while another is pending, keeps the conversation and the
// unsent text in localStorage, and handles passages, feedback, errors and reconnecting.
const cfg = props.config;
const T = cfg.text;
const root = element.querySelector(".sq-app");
const $ = (selector) => root.querySelector(selector);
const turnsBox = $(".sq-turns");
const input = $("#sq-input");
const form = $(".sq-composer");
const sendButton = $(".sq-send");
const live = $(".sq-live");
const jump = $(".sq-jump");
const contactDialog = $("#sq-contact-dialog");
const newDialog = $("#sq-new-dialog");
const url = (path) => new URL(path, window.location.href).toString();

// -- state ------------------------------------------------------------------------------
// turns: [{key, q, status: "done" | "failed" | "pending", id, html, answer, vote, commented}]
function load() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(cfg.storage_key) || "null");
    if (saved && Array.isArray(saved.turns)) return saved;
  } catch (e) { /* unreadable storage: start afresh */ }
  return { turns: [], draft: "" };
}
let state = load();
let generation = 0; // bumped by "new conversation": late answers of the old one are dropped
let busy = false;
let offline = false;
let failed = null; // the turn waiting for "Retry"
let pollTimer = null;
const queue = [];

function save() {
  state.turns = state.turns.slice(-cfg.kept_turns);
  try {
    window.localStorage.setItem(cfg.storage_key, JSON.stringify(state));
  } catch (e) { /* storage full or off: the chat still works, it just won't survive a reload */ }
}

const newKey = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

// -- rendering --------------------------------------------------------------------------
function turnNode(turn) {
  let node = turnsBox.querySelector(`[data-key="${turn.key}"]`);
  if (node) return node;
  node = document.createElement("div");
  node.className = "sq-turn";
  node.dataset.key = turn.key;
  const user = document.createElement("div");
  user.className = "sq-user";
  const label = document.createElement("span");
  label.className = "sq-sr-only";
  label.textContent = T.you_label + " ";
  const text = document.createElement("p");
  text.className = "sq-user-text";
  text.textContent = turn.q; // the client's text is text, never markup
  const status = document.createElement("span");
  status.className = "sq-user-status";
  user.append(label, text, status);
  const bot = document.createElement("div");
  bot.className = "sq-bot";
  node.append(user, bot);
  turnsBox.append(node);
  return node;
}

function setStatus(turn, message) {
  turnNode(turn).querySelector(".sq-user-status").textContent = message || "";
}

function showCard(turn) {
  const node = turnNode(turn);
  node.querySelector(".sq-bot").innerHTML = turn.html; // rendered and escaped by the server
  setStatus(turn, "");
  const vote = turn.vote;
  if (vote && vote !== "none") {
    const pressed = node.querySelector(`.sq-vote[data-vote="${vote}"]`);
    if (pressed) pressed.setAttribute("aria-pressed", "true");
  }
  return node.querySelector(".sq-answer");
}

function showTyping(turn, streamed) {
  const bot = turnNode(turn).querySelector(".sq-bot");
  let box = bot.querySelector(".sq-typing");
  if (!box) {
    bot.innerHTML = "";
    box = document.createElement("div");
    box.className = "sq-typing";
    box.setAttribute("aria-busy", "true");
    const text = document.createElement("p");
    text.className = "sq-stream";
    const dots = document.createElement("span");
    dots.className = "sq-dots";
    dots.setAttribute("role", "img");
    dots.setAttribute("aria-label", T.typing);
    dots.innerHTML = "<i></i><i></i><i></i>";
    box.append(text, dots);
    bot.append(box);
  }
  // Verified text as it is written (plain text; the finished card replaces it).
  if (streamed !== undefined) box.querySelector(".sq-stream").textContent = streamed.replace(/^- /gm, "• ");
}

// The pinned header and composer cover the page's top and bottom: their heights go to CSS
// (the page's scroll padding, so focus and scrollIntoView keep clear of them) and to the
// scrolling below.
const header = $(".sq-top");
const spacer = $(".sq-spacer");
const GAP = 12; // px between the header and what is scrolled under it
const ANSWER_START = 96; // px of the answer's first lines to show under its question

function measureBars() {
  const style = document.documentElement.style;
  style.setProperty("--sq-header-now", header.getBoundingClientRect().height + "px");
  style.setProperty("--sq-composer-now", form.getBoundingClientRect().height + "px");
}

function headerOffset() {
  return header.getBoundingClientRect().height + GAP;
}

// However short the newest turn, it can scroll up to the header: a spacer below the
// conversation makes up what the page lacks (otherwise the scroll stops at the page's
// end and the header cuts a line of the turn above in half).
function makeRoom(y) {
  spacer.style.height = "0px";
  const max = document.documentElement.scrollHeight - window.innerHeight;
  if (y > max) spacer.style.height = Math.ceil(y - max) + "px";
}

// A turn shown as it arrives: the start of the question just under the header, with the
// start of its answer below it. A question too long for both gives way to the answer.
function scrollToTurn(node, smooth) {
  if (!node) return;
  const question = node.querySelector(".sq-user");
  const answer = node.querySelector(".sq-bot");
  const room = form.getBoundingClientRect().top - headerOffset();
  const target = question.offsetHeight + ANSWER_START <= room ? question : answer;
  const y = Math.max(0, Math.round(target.getBoundingClientRect().top + window.scrollY - headerOffset()));
  makeRoom(y);
  window.scrollTo({ top: y, behavior: smooth ? "smooth" : "auto" });
}

function scrollToAnswer(card, smooth) {
  if (card) scrollToTurn(card.closest(".sq-turn"), smooth);
}

function updateJump() {
  const cards = turnsBox.querySelectorAll(".sq-answer");
  const last = cards[cards.length - 1];
  if (!last) { jump.hidden = true; return; }
  const composer = form.getBoundingClientRect();
  jump.hidden = last.getBoundingClientRect().top < composer.top - 24;
}

// A short message above the question box (e.g. "wait for the answers above").
let hintTimer = null;
function hint(text) {
  const box = $(".sq-hint");
  box.textContent = text;
  box.hidden = false;
  window.clearTimeout(hintTimer);
  hintTimer = window.setTimeout(() => { box.hidden = true; box.textContent = ""; }, 5000);
}

function announce(text) {
  live.textContent = "";
  window.setTimeout(() => { live.textContent = text; }, 60);
}

function renderAll() {
  turnsBox.innerHTML = "";
  for (const turn of state.turns) {
    turnNode(turn);
    if (turn.status === "done") showCard(turn);
    else turn.status = "failed"; // pending when the page was closed: not sent
  }
  // Questions not answered before the page closed: kept, each marked, one Retry sends
  // them all in order.
  const unsent = state.turns.filter((t) => t.status === "failed");
  unsent.forEach((t) => setStatus(t, T.chat_not_sent));
  if (unsent.length) showError(unsent[0], T.chat_interrupted, false);
  if (state.draft && !input.value) input.value = state.draft;
  autosize();
  const cards = turnsBox.querySelectorAll(".sq-answer");
  if (cards.length) scrollToAnswer(cards[cards.length - 1], false);
}

// -- sending ----------------------------------------------------------------------------
function history(before) {
  const done = state.turns.filter((t) => t.status === "done" && t !== before);
  return done.slice(-cfg.history_turns).flatMap((t) => [
    { role: "user", content: t.q },
    { role: "assistant", content: t.answer || "" },
  ]);
}

// The client's questions before this one (more than the history carries): no suggested
// question repeats one of them.
function askedBefore(turn) {
  const i = state.turns.indexOf(turn);
  return state.turns.slice(0, i < 0 ? state.turns.length : i).map((t) => t.q).slice(-cfg.asked_turns);
}

// The suggested questions under the last two answers: the next ones try others first.
function shownChips() {
  const cards = [...turnsBox.querySelectorAll(".sq-answer")].slice(-2);
  return cards.flatMap((c) => [...c.querySelectorAll(".sq-suggest .sq-ask")].map((b) => b.textContent));
}

function submit(question) {
  const q = (question || "").trim();
  if (!q) return false;
  // Refused, never silently: the text stays in the box.
  if (offline || failed) { hint(offline ? T.chat_waiting : T.retry_first); input.focus(); return false; }
  if (busy && queue.length >= cfg.max_queue) { hint(T.queue_full); return false; }
  const turn = { key: newKey(), q, status: "pending" };
  state.turns.push(turn);
  save();
  turnNode(turn);
  if (busy) setStatus(turn, T.queued);
  queue.push(turn);
  scrollToTurn(turnNode(turn), false);
  pump();
  return true;
}

async function pump() {
  if (busy || failed || offline || !queue.length) return;
  busy = true;
  const turn = queue.shift();
  const mine = generation;
  setStatus(turn, "");
  // A typing indicator only if the answer is not there at once (extractive answers are).
  const typingTimer = window.setTimeout(() => { if (mine === generation) showTyping(turn); }, 250);
  try {
    const response = await fetch(url(cfg.ask_url), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        question: turn.q, history: history(turn), shown: shownChips(), asked: askedBefore(turn),
      }),
    });
    if (!response.ok) {
      let message = T.chat_error;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      throw { refused: response.status < 500, message };
    }
    await readLines(response, turn, mine);
  } catch (err) {
    if (mine === generation) {
      if (err && err.message && err.refused !== undefined) fail(turn, err.message, err.refused);
      else { fail(turn, T.chat_offline, false); goOffline(); }
    }
  } finally {
    window.clearTimeout(typingTimer);
    busy = false;
    if (mine === generation) pump();
  }
}

async function readLines(response, turn, mine) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let streamed = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (!line || mine !== generation) continue;
      const event = JSON.parse(line);
      if (event.type === "delta") {
        streamed += event.text;
        showTyping(turn, streamed);
      } else if (event.type === "answer") {
        finish(turn, event);
        return;
      } else if (event.type === "error") {
        throw { refused: false, message: event.message };
      }
    }
  }
  throw { refused: false, message: T.chat_error }; // the stream ended without an answer
}

function finish(turn, event) {
  Object.assign(turn, { status: "done", id: event.id, html: event.html, answer: event.answer });
  save();
  const card = showCard(turn);
  scrollToAnswer(card, false); // at once: the answer is what the reader waits for
  announce(event.announce);
  updateJump();
}

// -- errors and reconnecting ------------------------------------------------------------
function showError(turn, message, refused) {
  root.querySelectorAll(".sq-error").forEach((e) => e.remove());
  const box = document.createElement("div");
  box.className = "sq-error";
  box.setAttribute("role", "alert");
  const text = document.createElement("p");
  text.textContent = message;
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "sq-action sq-action-primary sq-retry";
  retry.textContent = T.chat_retry;
  retry.disabled = offline;
  const bot = turnNode(turn).querySelector(".sq-bot");
  bot.innerHTML = "";
  bot.append(box);
  setStatus(turn, T.chat_not_sent);
  if (refused) {
    // Refused (too long, too many questions): retrying as is won't help, so the text
    // goes back into the box to edit or send later.
    box.append(text);
    if (!input.value.trim()) { input.value = turn.q; autosize(); }
    state.turns = state.turns.filter((t) => t !== turn);
    save();
    return;
  }
  box.append(text, retry);
  failed = turn;
}

function fail(turn, message, refused) {
  turn.status = "failed";
  save();
  showError(turn, message, refused);
  scrollToTurn(turnNode(turn), false);
}

function setOffline(value) {
  offline = value;
  sendButton.disabled = value;
  root.classList.toggle("sq-offline", value);
  const retry = root.querySelector(".sq-retry");
  if (retry) retry.disabled = value;
}

function goOffline() {
  setOffline(true);
  if (pollTimer) return;
  let delay = 1000;
  const poll = async () => {
    try {
      const r = await fetch(url(cfg.health_url), { cache: "no-store" });
      if (r.ok) {
        pollTimer = null;
        setOffline(false);
        const note = root.querySelector(".sq-error p");
        if (note) note.textContent = T.chat_reconnected;
        return;
      }
    } catch (e) { /* still unreachable */ }
    delay = Math.min(delay * 1.5, 8000);
    pollTimer = window.setTimeout(poll, delay);
  };
  pollTimer = window.setTimeout(poll, delay);
}

function retry() {
  const turn = failed;
  if (!turn || offline) return;
  failed = null;
  root.querySelectorAll(".sq-error").forEach((e) => e.remove());
  // The failed question first, then any other left unsent by a reload, ahead of those
  // still waiting in the queue.
  const unsent = [turn, ...state.turns.filter((t) => t !== turn && t.status === "failed")];
  unsent.forEach((t, i) => { t.status = "pending"; setStatus(t, i ? T.queued : ""); });
  save();
  queue.unshift(...unsent);
  pump();
}

// -- passages, feedback, suggestions ----------------------------------------------------
function togglePassage(chip) {
  const card = root.querySelector(`#${CSS.escape(chip.getAttribute("aria-controls"))}`);
  if (!card) return;
  const open = chip.getAttribute("aria-expanded") !== "true";
  const answer = chip.closest(".sq-answer");
  answer.querySelectorAll(".sq-chip[aria-expanded='true']").forEach((c) => c.setAttribute("aria-expanded", "false"));
  answer.querySelectorAll(".sq-passage").forEach((p) => { p.hidden = true; });
  if (!open) return;
  const block = chip.closest("li, p, .sq-note") || chip.parentElement;
  if (block.tagName === "LI") block.append(card);
  else block.after(card);
  card.hidden = false;
  chip.setAttribute("aria-expanded", "true");
  card.dataset.chip = chip.closest(".sq-more") ? "more" : "body";
  const rect = card.getBoundingClientRect();
  if (rect.bottom > form.getBoundingClientRect().top) card.scrollIntoView({ block: "nearest" });
}

function closePassage(card) {
  card.hidden = true;
  const answer = card.closest(".sq-answer");
  const chip = answer.querySelector(`.sq-chip[aria-controls="${card.id}"][aria-expanded="true"]`);
  if (chip) { chip.setAttribute("aria-expanded", "false"); chip.focus(); }
}

async function sendFeedback(box, body) {
  const status = box.querySelector(".sq-feedback-status");
  try {
    const r = await fetch(url(cfg.feedback_url), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || T.feedback_failed);
    status.textContent = data.message || "";
    return true;
  } catch (e) {
    status.textContent = e.message && e.message !== "Failed to fetch" ? e.message : T.feedback_failed;
    return false;
  }
}

function turnOf(node) {
  const key = node.closest(".sq-turn").dataset.key;
  return state.turns.find((t) => t.key === key);
}

async function vote(button) {
  const box = button.closest(".sq-feedback");
  const turn = turnOf(button);
  const wanted = button.getAttribute("aria-pressed") === "true" ? "none" : button.dataset.vote;
  const before = box.querySelectorAll(".sq-vote[aria-pressed='true']");
  box.querySelectorAll(".sq-vote").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.vote === wanted)));
  const form = box.querySelector(".sq-comment");
  const ok = await sendFeedback(box, { id: box.dataset.id, vote: wanted });
  if (!ok) {
    box.querySelectorAll(".sq-vote").forEach((b) => b.setAttribute("aria-pressed", "false"));
    before.forEach((b) => b.setAttribute("aria-pressed", "true"));
    return;
  }
  turn.vote = wanted;
  save();
  form.hidden = wanted !== "down" || turn.commented;
  if (!form.hidden) form.querySelector("textarea").focus();
}

async function comment(formNode) {
  const box = formNode.closest(".sq-feedback");
  const text = formNode.querySelector("textarea").value.trim();
  if (!text) { formNode.hidden = true; return; }
  if (await sendFeedback(box, { id: box.dataset.id, vote: "down", comment: text })) {
    formNode.hidden = true;
    const turn = turnOf(formNode);
    turn.commented = true;
    save();
  }
}

// -- events -----------------------------------------------------------------------------
form.addEventListener("submit", (e) => {
  e.preventDefault();
  if (submit(input.value)) {
    input.value = "";
    state.draft = "";
    save();
    autosize();
  }
});

input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});

function autosize() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 160) + "px";
}

let draftTimer = null;
input.addEventListener("input", () => {
  autosize();
  window.clearTimeout(draftTimer);
  draftTimer = window.setTimeout(() => { state.draft = input.value; save(); }, 200);
});

root.addEventListener("click", (e) => {
  const target = e.target.closest("button, a");
  if (!target || !root.contains(target)) return;
  if (target.classList.contains("sq-chip")) togglePassage(target);
  else if (target.classList.contains("sq-passage-close")) closePassage(target.closest(".sq-passage"));
  else if (target.classList.contains("sq-ask")) submit(target.textContent);
  else if (target.classList.contains("sq-vote")) vote(target);
  else if (target.classList.contains("sq-retry")) retry();
  else if (target.dataset.action === "skip") target.closest(".sq-comment").hidden = true;
  else if (target.dataset.action === "contact") contactDialog.showModal();
  else if (target.dataset.action === "new-chat") newDialog.showModal();
  else if (target.dataset.action === "close") target.closest("dialog").close();
  else if (target.dataset.action === "confirm-new") {
    newDialog.close();
    generation += 1;
    queue.length = 0;
    failed = null;
    state = { turns: [], draft: input.value };
    save();
    turnsBox.innerHTML = "";
    spacer.style.height = "0px";
    root.querySelectorAll(".sq-error").forEach((n) => n.remove());
    updateJump();
    window.scrollTo({ top: 0 });
    input.focus();
  }
});

root.addEventListener("submit", (e) => {
  if (e.target.classList.contains("sq-comment")) {
    e.preventDefault();
    comment(e.target);
  }
});

root.addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    const card = e.target.closest && e.target.closest(".sq-passage");
    if (card) closePassage(card);
  }
});

jump.addEventListener("click", () => {
  const cards = turnsBox.querySelectorAll(".sq-answer");
  scrollToAnswer(cards[cards.length - 1], true);
});
window.addEventListener("scroll", updateJump, { passive: true });
window.addEventListener("resize", updateJump, { passive: true });
new ResizeObserver(measureBars).observe(header);
new ResizeObserver(measureBars).observe(form);
window.addEventListener("online", () => { if (offline) goOffline(); });

measureBars();
renderAll();
updateJump();
root.dataset.ready = "1";
