// The board: columns are the pipeline's stages, cards its open deals; a card opens the deal.
// Every call carries Telegram's signed initData; the server decides what this person sees.
"use strict";
const tg = window.Telegram && window.Telegram.WebApp;
const state = { pipeline: "", manager: "", q: "", overdue: false, texts: {}, rendered: false };
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, body) {
  const answer = await fetch("api" + path, {
    method: body ? "POST" : "GET",
    headers: { "Authorization": "tma " + (tg ? tg.initData : ""),
               "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await answer.json();
  if (!answer.ok) throw new Error(data.error || String(answer.status));
  return data;
}

function showError(error) {
  haptic("notificationOccurred", "error");
  $("error").textContent = error.message;
  $("error").hidden = false;
}

function fillSelect(select, options, chosen) {
  select.replaceChildren(...options.map(([value, label]) => {
    const option = el("option", "", label);
    option.value = value;
    option.selected = String(value) === String(chosen);
    return option;
  }));
}

async function loadBoard() {
  const query = new URLSearchParams({ pipeline: state.pipeline, manager: state.manager,
                                      q: state.q, overdue: state.overdue ? "1" : "" });
  try {
    const board = await api("/board?" + query);
    if (!state.rendered) performance.mark("board-data"); // the server's part ends here
    $("error").hidden = true;
    renderBoard(board);
  } catch (error) { showError(error); }
}

// Telegram's colours as --tg-theme-* variables, the names telegram-web-app.js gives them too:
// set here as well so the page follows themeParams (and their changes) by itself.
function applyTheme() {
  const root = document.documentElement;
  for (const [key, value] of Object.entries(tg.themeParams || {})) {
    root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
  }
  root.dataset.scheme = tg.colorScheme === "dark" ? "dark" : "light";
}

function renderBoard(board) {
  const texts = state.texts = board.texts;
  state.pipeline = board.pipeline;
  document.title = texts.title;
  fillSelect($("pipeline"), board.pipelines.map((p) => [p.id, p.name]), board.pipeline);
  $("manager").hidden = board.managers.length === 0;
  fillSelect($("manager"), [["", texts.every_manager],
    ...board.managers.map((m) => [m.id, m.name])], state.manager);
  $("search").placeholder = texts.search;
  $("overdue-label").textContent = texts.overdue_only;
  // Built off-document and put in at once: one style and layout pass for the whole board.
  const columns = document.createDocumentFragment();
  for (const stage of board.stages) {
    const column = el("section", "column");
    column.dataset.stage = stage.id;
    column.append(el("h2", "", `${stage.name} · ${stage.cards.length}`));
    if (!stage.cards.length) column.append(el("div", "empty", texts.empty));
    for (const deal of stage.cards) column.append(renderCard(deal));
    columns.append(column);
  }
  $("board").replaceChildren(columns);
  if (!state.rendered) {
    state.rendered = true;
    void $("board").offsetHeight; // the cards laid out, not only in the DOM
    // From navigation start (performance's time origin) to the first board on screen.
    performance.mark("board-rendered");
  }
}

function renderCard(deal) {
  const card = el("article", "card" + (deal.overdue ? " overdue" : "") +
                  (deal.snoozed ? " snoozed" : ""));
  card.dataset.deal = deal.id;
  if (deal.qualification) card.append(el("span", "level", deal.qualification));
  card.append(el("div", "client", deal.client));
  const meta = [deal.company, deal.amount].filter(Boolean).join(" · ");
  if (meta) card.append(el("div", "meta", meta));
  card.append(el("div", "due", deal.snoozed ? `💤 ${state.texts.snoozed}` : deal.due));
  return card;
}

function list(title, items) {
  const block = el("div");
  if (!items.length) return block;
  block.append(el("h3", "", title));
  const ul = el("ul");
  for (const item of items) ul.append(el("li", "", item));
  block.append(ul);
  return block;
}

async function openDeal(dealId) {
  try { renderDeal(await api(`/deals/${dealId}`)); } catch (error) { showError(error); }
}

function renderDeal(deal) {
  const texts = state.texts;
  const view = $("deal");
  const title = el("h1", "", `№${deal.id} · ${deal.client}`);
  if (deal.qualification) title.append(el("span", "level", deal.qualification));
  view.replaceChildren(
    title,
    el("div", "", [deal.company, deal.phone, deal.amount].filter(Boolean).join(" · ")),
    ...(deal.manager ? [el("div", "", deal.manager)] : []),
    el("div", deal.overdue ? "due overdue" : "due", `${deal.stage.name} · ${deal.due || ""}`),
  );
  if (deal.notice) view.append(el("p", "notice", deal.notice));
  if (deal.status === "open") {
    const form = el("form");
    deal.stage.exit_criteria.forEach((criterion, index) => {
      const label = el("label");
      const box = el("input");
      box.type = "checkbox";
      box.value = index;
      box.addEventListener("change", () => haptic("selectionChanged"));
      label.append(box, " ", criterion);
      form.append(label);
    });
    const go = el("button", "", texts.next_stage);
    go.type = "submit";
    form.append(go);
    form.addEventListener("submit", (event) => { event.preventDefault(); advance(deal.id, form); });
    view.append(form);
  }
  view.append(
    list(texts.qualification, deal.answers.map((a) => `${a.question} — ${a.answer}`)),
    list(texts.next_reminder, deal.next_reminder ?
      [`${deal.next_reminder.at} · ${deal.next_reminder.text}`] : []),
    list(texts.history, deal.history.map((s) => `${s.at} · ${s.kind}: ${s.to}` +
      (s.comment ? ` — ${s.comment}` : ""))),
    list(texts.activities, deal.activities.map((a) => `${a.at} · ${a.kind}` +
      (a.comment ? ` — ${a.comment}` : ""))),
  );
  if (deal.status === "open") view.append(actions(deal));
  show("deal");
}

function advance(dealId, form) {
  const ticked = [...form.querySelectorAll("input:checked")].map((box) => Number(box.value));
  return change(dealId, "next-stage", { ticked });
}

async function change(dealId, action, body) {
  try {
    renderDeal(await api(`/deals/${dealId}/${action}`, body));
    haptic("notificationOccurred", "success");
  } catch (error) {
    if (tg && tg.showAlert) tg.showAlert(error.message); else showError(error);
    haptic("notificationOccurred", "error");
  }
}

function haptic(kind, style) {
  if (tg && tg.HapticFeedback) tg.HapticFeedback[kind](style);
}

// One small form per action: a field or two and its button, sent to the action's endpoint.
function actionForm(label, fields, send) {
  const form = el("form", "action");
  form.append(...fields, el("button", "", label));
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  return form;
}

function field(tag, placeholder, options) {
  const node = el(tag);
  if (placeholder) node.placeholder = placeholder;
  if (options) fillSelect(node, options, "");
  return node;
}

function actions(deal) {
  const texts = state.texts;
  const block = el("div");
  const note = field("textarea", texts.comment);
  block.append(actionForm(texts.note, [note],
    () => change(deal.id, "note", { comment: note.value })));
  block.append(reminderForm(deal));
  if (deal.back_to.length) {
    const stage = field("select", "", deal.back_to.map((s) => [s.id, s.name]));
    const why = field("input", texts.comment);
    block.append(actionForm(texts.back_to, [stage, why],
      () => change(deal.id, "back", { stage: stage.value, comment: why.value })));
  }
  const amount = field("input", texts.amount);
  amount.inputMode = "decimal";
  block.append(actionForm(texts.won, [amount],
    () => change(deal.id, "won", { amount: amount.value })));
  const reason = field("select", "", deal.lost_reasons.map((r) => [r.id, r.name]));
  const whyLost = field("input", texts.comment);  // optional, as in the chat
  block.append(actionForm(texts.lost, [reason, whyLost],
    () => change(deal.id, "lost", { reason: reason.value, comment: whyLost.value || null })));
  return block;
}

// The time typed as in the chat ("завтра в 11"), or one of a few such words at a tap: the server
// reads them all with the chat's own reader, in the team's time zone.
function reminderForm(deal) {
  const texts = state.texts;
  const when = field("input", texts.remind_when);
  const what = field("input", texts.remind_what);
  const presets = el("div", "presets");
  for (const words of [texts.preset_soon, texts.preset_tomorrow, texts.preset_monday]) {
    const preset = el("button", "", words);
    preset.type = "button";
    preset.addEventListener("click", () => { when.value = words; haptic("selectionChanged"); });
    presets.append(preset);
  }
  return actionForm(texts.remind, [presets, when, what],
    () => change(deal.id, "reminder", { when: when.value, text: what.value }));
}

function show(screen) {
  const onDeal = screen === "deal";
  $("deal").hidden = !onDeal;
  $("board").hidden = onDeal;
  $("filters").hidden = onDeal;
  $("error").hidden = true;
  if (tg && tg.BackButton) onDeal ? tg.BackButton.show() : tg.BackButton.hide();
}

function back() { show("board"); loadBoard(); }

let typing = 0;
// One listener for every card, present and future.
$("board").addEventListener("click", (event) => {
  const card = event.target.closest(".card");
  if (card) openDeal(card.dataset.deal);
});
$("pipeline").addEventListener("change", (e) => { state.pipeline = e.target.value; loadBoard(); });
$("manager").addEventListener("change", (e) => { state.manager = e.target.value; loadBoard(); });
$("overdue").addEventListener("change", (e) => { state.overdue = e.target.checked; loadBoard(); });
$("search").addEventListener("input", (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => { state.q = e.target.value; loadBoard(); }, 250);
});
if (tg) {
  applyTheme();
  tg.onEvent("themeChanged", applyTheme);
  tg.ready();
  tg.expand();
  if (tg.BackButton) tg.BackButton.onClick(back);
  document.documentElement.lang = (tg.initDataUnsafe.user || {}).language_code || "ru";
}
loadBoard();
