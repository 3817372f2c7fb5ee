// The analysts' page: ask a question, read the cited answer and passages, open a report at the
// cited span. Plain DOM: every piece of text from the service goes in as a text node, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const docTexts = new Map(); // document id -> GET /documents/{id}
let controller = null; // aborts the previous question when a new one is asked
let opener = null; // the link that opened the document view, focused again on the way back

// el("p", "class", child, ...) or el("a", {href: ...}, child, ...); children are nodes or strings.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (typeof attrs === "string") node.className = attrs;
  else for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

async function api(path, signal) {
  const response = await fetch(path, { signal, headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(typeof body?.detail === "string" ? body.detail : `the service answered ${response.status}`);
  }
  return body;
}

// text, whose first character is at offset `offset` of its report, with the spans
// [start, end, class] (offsets into the same report) wrapped in <mark>
function marked(text, offset, spans) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const [start, end, cls] of [...spans].sort((a, b) => a[0] - b[0])) {
    const from = Math.max(start - offset, at);
    const to = Math.min(end - offset, text.length);
    if (to <= from) continue;
    fragment.append(text.slice(at, from), el("mark", cls, text.slice(from, to)));
    at = to;
  }
  fragment.append(text.slice(at));
  return fragment;
}

// the figure as the report prints it, and its unit when the span does not hold it ("28" beds)
function figure(answer, cls) {
  const unit = answer.unit && !answer.text.includes(answer.unit) ? el("span", "unit", ` ${answer.unit}`) : null;
  return el("p", cls, answer.text, unit);
}

function citation(item) {
  return el("p", "citation",
    el("cite", "cite-title", item.title), " · ",
    el("span", "cite-year", String(item.report_year)), " · ",
    el("span", "cite-section", item.section || "no section"), " · ",
    el("span", "cite-offsets", `characters ${item.char_start}–${item.char_end} of ${item.source}`),
    item.pages?.length ? el("span", "cite-pages", ` · ${pageLabel(item.pages)}`) : null);
}

// "page 3" or "pages 3–4"
function pageLabel(pages) {
  return pages.length === 1 ? `page ${pages[0]}` : `pages ${pages[0]}–${pages[pages.length - 1]}`;
}

// text[from:to] as nodes, with a mark where each page of a PDF starts; the mark's label comes
// from the stylesheet (::before), so the text nodes stay the report's text exactly
function withPages(text, from, to, pages) {
  const nodes = [];
  let at = from;
  (pages || []).forEach(([start], i) => {
    if (start < from || start >= to || (start === 0 && i > 0)) return;
    if (start > at) nodes.push(text.slice(at, start));
    nodes.push(el("span", { class: "page-mark", "data-page": String(i + 1), title: `page ${i + 1}` }));
    at = start;
  });
  nodes.push(text.slice(at, to));
  return nodes;
}

// the pages of a PDF that text[start:end] lies on
function pagesOf(doc, start, end) {
  return (doc.pages || []).flatMap(([a, b], i) => (a < Math.max(end, start + 1) && start < b ? [i + 1] : []));
}

// a link to the document view: `span` highlighted and scrolled to, `mark` marked inside it
function reportLink(docId, span, mark, label) {
  const params = new URLSearchParams({ doc: docId, span: span.join("-") });
  if (mark) params.set("mark", mark.join("-"));
  const link = el("a", { href: `#${params}`, class: "open" }, label);
  link.addEventListener("click", () => { opener = link; });
  return link;
}

// where an answer opens its report: its sentence, with the answer marked inside
function answerLink(answer) {
  const sentence = answer.sentence_end > answer.sentence_start;
  const span = sentence ? [answer.sentence_start, answer.sentence_end] : [answer.char_start, answer.char_end];
  return reportLink(answer.doc_id, span, [answer.char_start, answer.char_end], "Show in the report");
}

// ---------------------------------------------------------------------------------------------
// results

function renderAnswer(data) {
  const card = $("answer");
  const answer = data.answer;
  card.replaceChildren();
  card.hidden = false;
  card.classList.toggle("none", !answer);
  if (!answer) {
    card.append(el("h2", { id: "answer-heading" }, "The reports do not say"),
      el("p", "reason", data.reason || "No passage holds that kind of answer."));
    return;
  }
  const about = answer.year ? ` · about ${answer.year}` : "";
  card.append(...[
    el("h2", { id: "answer-heading" }, "Answer"),
    figure(answer, "figure"),
    el("p", "confidence", `confidence ${Math.round(answer.confidence * 100)}%${about}`),
    answer.sentence ? el("blockquote", "sentence",
      marked(answer.sentence, answer.sentence_start, [[answer.char_start, answer.char_end, "answer"]])) : null,
    citation(answer),
    answerLink(answer),
    data.reason ? el("p", "note", data.reason) : null,
  ].filter(Boolean));
  if (answer.alternatives.length) {
    const list = el("ul", "alternatives");
    for (const alt of answer.alternatives) {
      list.append(el("li", null, figure(alt, "figure small"), citation(alt), answerLink(alt)));
    }
    card.append(el("h3", null, "Other sources say"), list);
  }
}

function renderPassages(data) {
  const answers = data.answer ? [data.answer, ...data.answer.alternatives] : [];
  const list = $("passage-list");
  list.replaceChildren();
  for (const passage of data.passages) {
    const spans = answers.filter((a) => a.doc_id === passage.doc_id)
      .map((a) => [a.char_start, a.char_end, a === data.answer ? "answer" : "alternative"]);
    const inside = spans.find(([start, end]) => start >= passage.char_start && end <= passage.char_end);
    list.append(el("li", "passage",
      citation(passage),
      el("p", "meta", `rank ${passage.rank} · score ${passage.score.toFixed(3)}`),
      passage.context ? el("p", "context", passage.context) : null,
      el("p", "passage-text", marked(passage.text, passage.char_start, spans)),
      reportLink(passage.doc_id, [passage.char_start, passage.char_end], inside?.slice(0, 2), "Open in the report")));
  }
  $("passages").hidden = !data.passages.length;
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

async function ask(event) {
  event.preventDefault();
  const question = $("q").value.trim();
  if (!question) return;
  const params = new URLSearchParams({ q: question, k: $("k").value });
  for (const name of ["year", "doc", "section"]) if ($(name).value) params.set(name, $(name).value);
  history.replaceState(null, "", `?${params}`);
  controller?.abort();
  const mine = (controller = new AbortController());
  $("results").setAttribute("aria-busy", "true");
  $("ask-button").textContent = "Asking…";
  showError(null);
  try {
    const data = await api(`ask?${params}`, mine.signal);
    renderAnswer(data);
    renderPassages(data);
  } catch (err) {
    if (err.name === "AbortError") return;
    showError(err.message);
    $("answer").hidden = $("passages").hidden = true;
  } finally {
    if (controller === mine) {
      $("results").setAttribute("aria-busy", "false");
      $("ask-button").textContent = "Ask";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the document view: #doc=ID&span=START-END&mark=START-END

function parseSpan(value) {
  const match = /^(\d+)-(\d+)$/.exec(value || "");
  return match && Number(match[1]) < Number(match[2]) ? [Number(match[1]), Number(match[2])] : null;
}

async function documentText(id) {
  if (!docTexts.has(id)) docTexts.set(id, await api(`documents/${encodeURIComponent(id)}`));
  return docTexts.get(id);
}

function showDocument(doc, span, mark) {
  const text = doc.text;
  const pre = $("doc-text");
  $("doc-title").textContent = doc.title;
  const facts = [doc.publisher, String(doc.report_year), doc.source];
  if (doc.pages?.length) facts.push(`${doc.pages.length} pages (${doc.format.toUpperCase()})`);
  if (!span || span[1] > text.length) {
    $("doc-meta").textContent = facts.join(" · ");
    pre.replaceChildren(...withPages(text, 0, text.length, doc.pages));
    $("doc-title").focus();
    return;
  }
  const [start, end] = span;
  const section = doc.sections.find((s) => s.char_start <= start && start < s.char_end);
  const pages = pagesOf(doc, start, end);
  facts.push(`cited: ${section ? section.label : "no section"}, ${pages.length ? `${pageLabel(pages)}, ` : ""}` +
    `characters ${start}–${end}`);
  $("doc-meta").textContent = facts.join(" · ");
  const inner = mark ? [marked(text.slice(start, end), start, [[mark[0], mark[1], "answer"]])]
    : withPages(text, start, end, doc.pages);
  const cited = el("mark", { class: "cited", id: "cited", tabindex: "-1" }, ...inner);
  pre.replaceChildren(...withPages(text, 0, start, doc.pages), cited, ...withPages(text, end, text.length, doc.pages));
  cited.scrollIntoView({ block: "center" });
  cited.focus({ preventScroll: true });
}

async function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get("doc");
  $("search-view").hidden = Boolean(id);
  $("document-view").hidden = !id;
  if (!id) {
    if (opener && document.contains(opener)) opener.focus();
    return;
  }
  $("doc-title").textContent = "Opening the report…";
  $("doc-meta").textContent = "";
  $("doc-text").replaceChildren();
  try {
    showDocument(await documentText(id), parseSpan(params.get("span")), parseSpan(params.get("mark")));
  } catch (err) {
    $("doc-title").textContent = "Cannot open the report";
    $("doc-meta").textContent = err.message;
  }
}

// ---------------------------------------------------------------------------------------------
// start: wait for the index, fill the filters, ask the question in the address if there is one

async function loadFilters() {
  const years = new Set();
  const sections = new Set();
  for (const doc of await api("documents")) {
    for (let year = doc.period[0]; year <= doc.period[1]; year += 1) years.add(year);
    for (const section of doc.sections) if (section.path[0]) sections.add(section.path[0]);
    $("doc").append(el("option", { value: doc.id }, doc.title));
  }
  for (const year of [...years].sort((a, b) => b - a)) $("years").append(el("option", null, String(year)));
  for (const name of [...sections].sort()) $("section").append(el("option", null, name));
}

// a value in the address that a list does not offer (a typo, a file name) is kept, as an option
// of its own, and named in a notice: the question is asked with it, never silently without it
function fromAddress(name, value) {
  const field = $(name);
  if (field.tagName === "SELECT" && ![...field.options].some((option) => option.value === value)) {
    field.append(el("option", { value }, `${value} (from the address)`));
    field.value = value;
    return `${name}=${value} in the address is not one of this page's options; asked with it as given`;
  }
  field.value = value;
  return null;
}

function askFromAddress() {
  const params = new URLSearchParams(location.search);
  if (!params.get("q")) return;
  const notes = [];
  for (const name of ["q", "year", "doc", "section", "k"]) {
    if (!params.has(name)) continue;
    const note = fromAddress(name, params.get(name));
    if (note) notes.push(note);
  }
  $("notice").hidden = !notes.length;
  $("notice").textContent = notes.join("; ");
  $("ask-form").requestSubmit();
}

async function watchHealth() {
  const status = $("status");
  try {
    const health = await (await fetch("health")).json();
    status.dataset.state = health.status;
    if (health.status === "ok") {
      status.textContent = `Ready: ${health.documents} reports, ${health.chunks} passages.`;
      await loadFilters();
      askFromAddress();
      return;
    }
    if (health.status === "error") {
      status.textContent = `The index could not be loaded: ${health.detail}`;
      return;
    }
    status.textContent = "Loading the reports and the model…";
  } catch {
    status.dataset.state = "error";
    status.textContent = "Cannot reach the service; retrying…";
  }
  setTimeout(watchHealth, 1000);
}

$("ask-form").addEventListener("submit", ask);
window.addEventListener("hashchange", route);
route();
watchHealth();
