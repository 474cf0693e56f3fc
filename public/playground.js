// The playground page: one message sent to both panes, each reply streamed from
// POST /api/projects/:id/playground (server-sent events over fetch: EventSource cannot POST).
(() => {
  const root = document.querySelector("[data-playground]");
  if (!root) return;
  const url = root.dataset.url;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": csrf };
  const panes = [...root.querySelectorAll("[data-pane]")].map((el) => ({ el, history: [] }));
  const form = root.querySelector("[data-ask]");
  const template = root.querySelector("[data-reply-template]");

  const addLine = (pane, role, text) => {
    const li = document.createElement("li");
    li.className = `play-${role}`;
    li.textContent = text;
    pane.el.querySelector("[data-log]").append(li);
    return li;
  };

  /** Reads `event:`/`data:` blocks from a streamed response. */
  async function* events(res) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        yield { event, data: data ? JSON.parse(data) : {} };
      }
    }
  }

  async function ask(pane, options) {
    const target = pane.el.querySelector("[data-target]").value;
    const reply = template.content.firstElementChild.cloneNode(true);
    const text = reply.querySelector("[data-text]");
    reply.dataset.streaming = "1";
    pane.el.querySelector("[data-log]").append(reply);
    const stats = pane.el.querySelector("[data-stats]");
    stats.textContent = "…";
    const messages = pane.history.slice();
    let answer = "";
    try {
      const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ messages, target, ...options }) });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new Error(body.detail ?? `HTTP ${res.status}`);
      }
      for await (const e of events(res)) {
        if (e.event === "token") {
          answer += e.data.text;
          text.textContent = answer;
        } else if (e.event === "done") {
          const notes = [`${e.data.tokens} tokens in ${e.data.seconds.toFixed(2)} s`];
          if (e.data.ended === "length") notes.push("stopped at the token limit");
          if (e.data.ended === "time_limit") notes.push("stopped at the time limit");
          if (e.data.dropped_turns) notes.push(`the oldest ${e.data.dropped_turns} message${e.data.dropped_turns === 1 ? " was" : "s were"} left out to fit the model's context`);
          stats.textContent = notes.join(" · ");
        } else if (e.event === "error") {
          throw new Error(e.data.detail);
        }
      }
      pane.history.push({ role: "assistant", content: answer });
    } catch (err) {
      text.textContent = answer;
      const p = document.createElement("p");
      p.className = "error-text";
      p.setAttribute("role", "alert");
      p.textContent = String(err.message ?? err);
      reply.append(p);
      stats.textContent = "";
      pane.history.pop(); // the question stays unanswered: it is asked again with the next one
    } finally {
      delete reply.dataset.streaming;
    }
    const conversation = messages;
    const settled = { target, answer, messages: conversation, ok: !reply.querySelector("[role=alert]") && answer.trim() !== "" };
    reply.querySelector("[data-correction]").value = answer;
    reply.querySelector("[data-save]").addEventListener("click", async () => {
      const saved = reply.querySelector("[data-saved]");
      const body = { messages: conversation, reply: reply.querySelector("[data-correction]").value };
      const res = await fetch(`${url}/examples`, { method: "POST", headers, body: JSON.stringify(body) });
      const json = await res.json().catch(() => ({}));
      saved.textContent = res.ok ? "Saved to the training set." : (json.detail ?? `Not saved (HTTP ${res.status}).`);
    });
    return settled;
  }

  const feedbackTemplate = root.querySelector("[data-judge-template]");
  const judgements = root.querySelector("[data-judgements]");
  /** Saves one preference pair; the bar says what happened. */
  async function savePair(bar, pair) {
    const status = bar.querySelector("[data-judge-status]");
    const res = await fetch(`${url.replace(/\/playground$/, "")}/preferences`, { method: "POST", headers, body: JSON.stringify(pair) });
    const json = await res.json().catch(() => ({}));
    if (res.ok) {
      for (const b of bar.querySelectorAll("button")) b.disabled = true;
      status.textContent = "Saved as feedback.";
    } else {
      status.textContent = json.detail ?? `Not saved (HTTP ${res.status}).`;
    }
  }

  /** After both panes answered one question: which reply is better, or the right answer written. */
  function offerJudgement(question, left, right) {
    if (!feedbackTemplate || !left.ok || !right.ok) return;
    const bar = feedbackTemplate.content.firstElementChild.cloneNode(true);
    bar.querySelector("[data-judge-question]").textContent = question;
    const same = left.answer.trim() === right.answer.trim();
    const pick = (chosen, rejected) => () =>
      savePair(bar, { source: "playground_choice", prompt: chosen.messages, chosen: chosen.answer, rejected: rejected.answer, chosen_by: chosen.target, rejected_by: rejected.target });
    const [leftBtn, rightBtn] = [bar.querySelector("[data-left-better]"), bar.querySelector("[data-right-better]")];
    leftBtn.addEventListener("click", pick(left, right));
    rightBtn.addEventListener("click", pick(right, left));
    if (same) {
      leftBtn.disabled = rightBtn.disabled = true;
      bar.querySelector("[data-judge-status]").textContent = "Both replies are the same: nothing to choose between.";
    }
    // A written answer is preferred to the tuned model's reply (or the left one when neither pane is tuned).
    const wrong = left.target === "tuned" || right.target !== "tuned" ? left : right;
    bar.querySelector("[data-save-right]").addEventListener("click", () => {
      const written = bar.querySelector("[data-right-answer]").value.trim();
      if (!written) {
        bar.querySelector("[data-judge-status]").textContent = "Write the right answer first.";
        return;
      }
      void savePair(bar, { source: "playground_correction", prompt: wrong.messages, chosen: written, rejected: wrong.answer, chosen_by: "user", rejected_by: wrong.target });
    });
    judgements.prepend(bar);
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const message = String(data.get("message") ?? "").trim();
    if (!message) return;
    const options = { temperature: Number(data.get("temperature") || 0), max_new_tokens: Number(data.get("max_new_tokens") || 256) };
    form.querySelector("textarea").value = "";
    const asked = panes.map((pane) => {
      pane.history.push({ role: "user", content: message });
      addLine(pane, "user", message);
      return ask(pane, options);
    });
    void Promise.all(asked).then(([left, right]) => offerJudgement(message, left, right));
  });
  root.querySelector("[data-clear]").addEventListener("click", () => {
    for (const pane of panes) {
      pane.history = [];
      pane.el.querySelector("[data-log]").replaceChildren();
      pane.el.querySelector("[data-stats]").textContent = "";
    }
    judgements?.replaceChildren();
  });
})();
