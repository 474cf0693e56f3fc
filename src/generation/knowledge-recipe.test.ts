/** The knowledge recipe's generation: varied questions, study notes, near-duplicates by meaning, the second look. */
import { describe, expect, test } from "bun:test";
import { groundedResponder } from "../../tests/fakes/fake-ollama.ts";
import { generationHarness } from "../../tests/helpers/generation-harness.ts";

const g = generationHarness();
const { fake, setup, rows, run } = g;

describe("varied questions (Q&A)", () => {
  const chunkOf = (prompt: string) => /"""\n([\s\S]*?)\n"""/.exec(prompt)?.[1] ?? "";

  test("each request for a chunk asks another kind of question and lists those already kept; a short document keeps the server full", async () => {
    let now = 0;
    let most = 0;
    const grounded = groundedResponder("qa");
    const ollama = fake({
      responder: async (call, n) => {
        most = Math.max(most, ++now);
        await Bun.sleep(40);
        now--;
        return grounded(call, n);
      },
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900, concurrency: 8 });
    const chunks = (g.t.db.$client.query("select count(*) as n from chunks where project_id = ?").get(pid) as { n: number }).n;
    expect(chunks).toBeLessThanOrEqual(3);
    const j = await run(pid, "generate", { target: 36 });
    expect(j.status).toBe("success");
    expect(rows(pid).filter((e) => e.is_valid === 1)).toHaveLength(36);
    // Several requests per chunk at once: more in flight than there are chunks.
    expect(most).toBeGreaterThan(chunks);
    const byChunk = new Map<string, string[]>();
    for (const c of ollama.calls) byChunk.set(chunkOf(c.prompt), [...(byChunk.get(chunkOf(c.prompt)) ?? []), c.prompt]);
    for (const prompts of byChunk.values()) {
      const kinds = prompts.map((p) => /write \d+ different questions (.*?), each with its answer/.exec(p)![1]);
      // The kinds rotate: the first requests of a chunk each ask a different kind.
      expect(new Set(kinds.slice(0, Math.min(4, kinds.length))).size).toBe(Math.min(4, kinds.length));
    }
    // A later request lists questions kept from that chunk.
    const later = ollama.calls.find((c) => c.prompt.includes("These questions were already asked about this passage"))!;
    const listed = /already asked about this passage[^\n]*\n((?:- .*\n?)+)/.exec(later.prompt)![1]!.trim().split("\n").map((l) => l.slice(2));
    const kept = new Set(rows(pid).map((e) => e.instruction as string));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((q) => kept.has(q))).toBe(true);
  });

  test("the kinds rotate evenly; a question linking two passages shows both, and its answer may rest on either", async () => {
    const { kindFor, QUESTION_KINDS } = await import("./question-kinds.ts");
    const { renderPrompt } = await import("./prompts.ts");
    expect(Array.from({ length: 12 }, (_, n) => kindFor(n, true).id)).toEqual([...QUESTION_KINDS.map((k) => k.id), ...QUESTION_KINDS.map((k) => k.id)]);
    expect(Array.from({ length: 6 }, (_, n) => kindFor(n, false).id)).not.toContain("linked");
    const linked = renderPrompt("qa", { count: 2, source: "a.pdf, page 3", chunk: "The pump runs at 40 bar.", kind: kindFor(5, true), kept: ["What pressure?"], neighbour: { source: "a.pdf, page 4", text: "The valve opens at 45 bar." } });
    expect(linked).toContain("write 2 different questions that need both the passage and the next passage below to answer");
    expect(linked).toContain("answerable from the passage and the next passage alone");
    expect(linked).toContain('The next passage (from a.pdf, page 4):\n"""\nThe valve opens at 45 bar.\n"""');
    expect(linked).toContain("- What pressure?");
    // The loopback Ollama (and any reader) finds the chunk as the first quoted block.
    expect(/"""\n([\s\S]*?)\n"""/.exec(linked)![1]).toBe("The pump runs at 40 bar.");
  });

  test("a chunk whose questions stop being new is done: the job ends instead of asking again and again", async () => {
    const ollama = fake({
      responder: (call) => ({ content: JSON.stringify({ examples: [{ question: "What does the manual say about the pump?", answer: `${chunkOf(call.prompt).split(/\s+/).slice(0, 12).join(" ")}.` }] }) }),
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 300, concurrency: 1 });
    await run(pid, "preview");
    const previewCalls = ollama.calls.length;
    const j = await run(pid, "generate", { target: 30 });
    expect(j.status).toBe("success");
    expect(rows(pid).filter((e) => e.split !== "preview")).toHaveLength(1);
    expect(JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result)).toMatchObject({ chunks_exhausted: 1, target: 30, stopped: "documents_exhausted" });
    // One accepted answer, then STALE_AFTER answers with nothing new: not the 200 requests the budget allows.
    expect(ollama.calls.length - previewCalls).toBeLessThanOrEqual(4);
    // The Preview step says it stopped short, and why.
    const page = await (await g.t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("The generation stopped at 1 of the 30 examples asked for");
    expect(page).toContain("The documents gave nothing new after that (1 of 1 passages kept repeating what was already asked)");
  });

  test("a model whose answers keep failing the checks stops at its request budget, and the Preview step says so", async () => {
    // Answers that never rest on the passage: refused as ungrounded, each a different question.
    let n = 0;
    const ollama = fake({ responder: () => ({ content: JSON.stringify({ examples: [{ question: `Which colour is lunar cheese number ${++n}?`, answer: `Chartreuse ${n}, obviously, says the moon council of ${n * 7} elders.` }] }) }) });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 300, concurrency: 1 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(j.status).toBe("success");
    const result = JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result).toMatchObject({ valid: 0, target: 10, stopped: "request_budget" });
    const page = await (await g.t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("The generation stopped at 0 of the 10 examples asked for");
    expect(page).toContain(`After ${result.requests} requests most answers still failed the checks`);
  });

  test("a generation that reaches its target says nothing about stopping short", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 600 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result)).toMatchObject({ target: 10, stopped: "target" });
    const page = await (await g.t.request(`/projects/${pid}/wizard?step=preview`)).text();
    expect(page).toContain("10 examples generated");
    expect(page).not.toContain("The generation stopped at");
  });
});

test("the Review step shows, per document, how many distinct questions each part produced", async () => {
  const ollama = fake({ responder: groundedResponder("qa") });
  const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
  await run(pid, "generate", { target: 12 });
  const parts = (g.t.db.$client.query("select count(*) as n from chunks where project_id = ?").get(pid) as { n: number }).n;
  const html = await (await g.t.request(`/projects/${pid}/wizard?step=review`)).text();
  expect(html).toContain("Coverage per document: distinct questions per part");
  expect(html).toMatch(new RegExp(`<td>manual.txt</td><td>\\d+ of ${parts}</td><td>12</td>`));
});

describe("study notes (the study_notes recipe)", () => {
  test("closed-book Q&A defaults to study notes + questions; a chunk's first request writes notes, learnt without their passage", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    // The Task step: closed-book shows study notes as the chosen recipe, and keeps it.
    const form = (fields: Record<string, string>) => g.t.request(`/projects/${pid}/task`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams(fields) });
    await form({ task_type: "qa", qa_context: "closed_book", qa_recipe: "questions" });
    const project = await (await g.t.request(`/api/projects/${pid}`)).json();
    // "questions" was only the default shown before the switch: not a choice.
    expect(project.config.qa_recipe).toBeUndefined();
    const page = await (await g.t.request(`/projects/${pid}/wizard?step=task`)).text();
    expect(page).toMatch(/id="recipe-study_notes"[^>]*checked/);
    const j = await run(pid, "generate", { target: 18 });
    expect(j.status).toBe("success");
    const notes = rows(pid).filter((e) => e.kind === "note");
    const questions = rows(pid).filter((e) => e.kind === "example");
    expect(notes.length).toBeGreaterThan(0);
    expect(questions.length).toBeGreaterThanOrEqual(notes.length);
    expect(notes.every((e) => e.prompt_version === "notes.v1" && e.input === "")).toBe(true);
    expect(questions.every((e) => e.prompt_version === "qa.v2")).toBe(true);
    expect(ollama.calls.filter((c) => c.prompt.startsWith("You write study notes")).length).toBeGreaterThan(0);
    // Review: notes are their own kind, filterable, and badged.
    const api = await (await g.t.request(`/api/projects/${pid}/dataset/examples?kind=note`)).json();
    expect(api.total).toBe(notes.length);
    expect(api.items.every((e: { kind: string }) => e.kind === "note")).toBe(true);
    const review = await (await g.t.request(`/projects/${pid}/wizard?step=review&kind=note`)).text();
    expect(review).toContain('<span class="badge kind-note">Note</span>');
  });

  test("an explicit choice of questions only writes no notes, even closed-book", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    await g.t.json("PATCH", `/api/projects/${pid}`, { qa_context: "closed_book", qa_recipe: "questions" });
    await run(pid, "generate", { target: 12 });
    expect(rows(pid).filter((e) => e.kind === "note")).toHaveLength(0);
    const bad = await g.t.json("PATCH", `/api/projects/${pid}`, { qa_recipe: "notes_only" });
    expect(bad.status).toBe(422);
  });
});

describe("near-duplicates by meaning (embeddings)", () => {
  /** The same fact asked in other words: the embedding (keyed on the fact's number) says so, word overlap does not. */
  const phrasings = ["How long is the warranty for item {n}?", "For item {n}, what warranty period applies?", "Item {n}: for how many years is it guaranteed?"];
  const meaningOf = (text: string) => {
    const v = new Array<number>(16).fill(0);
    v[Number(/item (\d+)/i.exec(text)?.[1] ?? 15) % 16] = 1;
    return v;
  };

  test("an embedding model catches what word overlap misses; the counts are split by kind and the step says which check ran", async () => {
    let asked = 0;
    const ollama = fake({
      models: ["llama3.1:8b", "nomic-embed-text:latest"],
      embed: meaningOf,
      responder: (call) => {
        const chunk = /"""\n([\s\S]*?)\n"""/.exec(call.prompt)?.[1] ?? "";
        const answer = `${chunk.split(/\s+/).slice(0, 12).join(" ")}.`;
        // Each request: one new fact, and the previous request's fact asked in other words.
        const n = asked++;
        const examples = [{ question: phrasings[0]!.replace("{n}", String(n)), answer }, ...(n > 0 ? [{ question: phrasings[1 + (n % 2)]!.replace("{n}", String(n - 1)), answer: `${answer} Indeed.` }] : [])];
        return { content: JSON.stringify({ examples }) };
      },
    });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900, concurrency: 1 });
    await run(pid, "preview");
    const j = await run(pid, "generate", { target: 10 });
    expect(j.status).toBe("success");
    const result = JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result.dedup).toBe("embeddings (nomic-embed-text:latest)");
    // The step's generation model picker offers the models that can write: not the embedding model.
    const picker = await (await g.t.request(`/projects/${pid}/generation/models`)).text();
    expect(picker).toContain('value="llama3.1:8b"');
    expect(picker).not.toContain("nomic-embed-text");
    // The API lists every installed model (a script may name the embedding model).
    expect((await (await g.t.request("/api/generation/models")).json()).models).toContain("nomic-embed-text:latest");
    expect(result.duplicates_by_kind.semantic).toBeGreaterThan(0);
    expect(result.duplicates_by_kind.exact).toBe(0);
    // No two kept examples ask about the same item.
    const items = rows(pid).filter((e) => e.split !== "preview").map((e) => /item (\d+)/i.exec(e.instruction)![1]);
    expect(new Set(items).size).toBe(items.length);
    const stats = await (await g.t.request(`/api/projects/${pid}/dataset/stats`)).json();
    // The stats add up every generation of the project (the preview too).
    expect(stats.duplicates_by_kind.semantic).toBeGreaterThanOrEqual(result.duplicates_by_kind.semantic);
    expect(await (await g.t.request(`/projects/${pid}/wizard?step=preview`)).text()).toContain("Near-duplicates found by embeddings (nomic-embed-text:latest).");
  });

  test("without an embedding model, word overlap alone, and the step says how to get one", async () => {
    const ollama = fake({ responder: groundedResponder("qa") });
    const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
    const j = await run(pid, "generate", { target: 10 });
    const result = JSON.parse((g.t.db.$client.query("select result from jobs where id = ?").get(j.id) as { result: string }).result);
    expect(result.dedup).toContain("word overlap only: no embedding model is installed");
    expect(ollama.requests.some((r) => r.endsWith("/api/embed"))).toBe(false);
  });

  test("the semantic index and the default embedding model", async () => {
    const { SemanticIndex, pickEmbeddingModel } = await import("./semantic-dedup.ts");
    const index = new SemanticIndex(0.9);
    expect(index.isDuplicate([1, 0, 0])).toBe(false);
    expect(index.isDuplicate([0.99, 0.1, 0])).toBe(true);
    expect(index.isDuplicate([0, 1, 0])).toBe(false);
    expect(index.size).toBe(2);
    expect(pickEmbeddingModel(["llama3.1:8b", "nomic-embed-text:latest", "bge-m3:latest"])).toBe("nomic-embed-text:latest");
    expect(pickEmbeddingModel(["llama3.1:8b", "qwen2.5:7b"])).toBeNull();
  });
});

const unanswerable = (question: string) => new Bun.CryptoHasher("sha1").update(question).digest()[0]! % 2 === 1;

test("the second look: a model checks each pair against its passage; rejected pairs stay in Review with its reason, and the step says the cost first", async () => {
  const grounded = groundedResponder("qa");
  const looks: string[] = [];
  const ollama = fake({
    responder: (call, n) => {
      if (call.prompt.startsWith("You check a question-answer pair")) {
        looks.push(call.model);
        // About half the questions are not answered by their passage (decided by the question's text, whatever the order of calls).
        const question = /^Question: (.*)$/m.exec(call.prompt)![1]!;
        return { content: JSON.stringify({ answerable: !unanswerable(question), faithful: true, reason: unanswerable(question) ? "the passage does not say" : "ok" }) };
      }
      return grounded(call, n);
    },
  });
  const pid = await setup({ hosts: [ollama.url], task: "qa", words: 900 });
  await run(pid, "preview");
  const page = await (await g.t.request(`/projects/${pid}/wizard?step=preview`)).text();
  expect(page).toContain("Costs one more LLM call per example: about 2,000 more calls");
  const form = await g.t.request(`/projects/${pid}/generate`, { method: "POST", headers: { "HX-Request": "true" }, body: new URLSearchParams({ model: "llama3.1:8b", target: "12", answerability_check: "on" }) });
  expect(form.status).toBe(200);
  await g.t.queue.runUntilEmpty(60_000);
  const full = rows(pid).filter((e) => e.split !== "preview");
  const rejected = full.filter((e) => e.validation_error === "not answerable from its passage (second look)");
  expect(rejected.length).toBeGreaterThan(0);
  const job = g.t.db.$client.query("select status, result from jobs where type = 'dataset_generate'").get() as { status: string; result: string };
  expect({ status: job.status, valid: full.filter((e) => e.is_valid === 1).length, result: JSON.parse(job.result) }).toMatchObject({ status: "success", valid: 12 });
  expect(full.filter((e) => e.is_valid === 1).every((e) => !unanswerable(e.instruction))).toBe(true);
  // One look per example written, by the strongest installed model (both are 8B here: the first listed).
  expect(looks.length).toBeGreaterThanOrEqual(full.length);
  expect(new Set(looks)).toEqual(new Set(["llama3.1:8b"]));
  expect((await (await g.t.request(`/api/projects/${pid}`)).json()).config.answerability_check).toBe(true);
});
