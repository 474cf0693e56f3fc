/**
 * Enough of Go's text/template to render the chat templates FineTuneFlow writes for
 * Ollama (src/publish, python/finetuneflow_trainer/ollama.py): range .Messages (also
 * `range $i, $_ := .Messages` with `if $i`, for a BOS before every user turn but the
 * first), if/else if/end on .Role, the "no system message first" test, .Content,
 * .System and the {{- / -}} trim markers. Anything else throws, as Ollama would refuse the template.
 */
type Msg = { role: string; content: string };
type Node = { kind: "text"; text: string } | { kind: "action"; expr: string } | { kind: "range"; body: Node[] } | { kind: "if"; branches: { cond: string | null; body: Node[] }[] };

function lex(template: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  let rest = template;
  while (rest.length) {
    const open = rest.indexOf("{{");
    if (open < 0) {
      out.push(rest);
      break;
    }
    let text = rest.slice(0, open);
    const close = rest.indexOf("}}", open);
    if (close < 0) throw new Error("template: unclosed action");
    let action = rest.slice(open + 2, close);
    if (action.startsWith("-")) {
      text = text.replace(/\s+$/, "");
      action = action.slice(1);
    }
    let after = rest.slice(close + 2);
    if (action.endsWith("-")) {
      action = action.slice(0, -1);
      after = after.replace(/^\s+/, "");
    }
    if (text) out.push(text);
    out.push({ action: action.trim() });
    rest = after;
  }
  return out;
}

function parse(tokens: (string | { action: string })[], i = 0, stopAt: string[] = []): [Node[], number, string | null] {
  const nodes: Node[] = [];
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (typeof t === "string") {
      nodes.push({ kind: "text", text: t });
      i++;
      continue;
    }
    const a = t.action;
    if (stopAt.some((s) => a === s || a.startsWith(`${s} `))) return [nodes, i, a];
    if (a === "range .Messages" || a === "range $i, $_ := .Messages") {
      const [body, j] = parse(tokens, i + 1, ["end"]);
      nodes.push({ kind: "range", body });
      i = j + 1;
    } else if (a.startsWith("if ")) {
      const branches: { cond: string | null; body: Node[] }[] = [];
      let cond: string | null = a.slice(3);
      let j = i + 1;
      for (;;) {
        const [body, k, stop] = parse(tokens, j, ["else", "end"]);
        branches.push({ cond, body });
        if (stop === null) throw new Error("template: unclosed if");
        if (stop === "end") {
          j = k + 1;
          break;
        }
        cond = stop.startsWith("else if ") ? stop.slice(8) : null;
        j = k + 1;
      }
      nodes.push({ kind: "if", branches });
      i = j;
    } else {
      nodes.push({ kind: "action", expr: a });
      i++;
    }
  }
  return [nodes, i, null];
}

type Ctx = { messages: Msg[]; system: string; msg?: Msg; index?: number };

function test(cond: string, ctx: Ctx): boolean {
  if (cond === "$i") return (ctx.index ?? 0) !== 0;
  const role = /^eq \.Role "(\w+)"$/.exec(cond);
  if (role) return ctx.msg?.role === role[1];
  if (cond === '.System') return ctx.system !== "";
  if (cond === 'or (not .Messages) (ne (index .Messages 0).Role "system")') return ctx.messages.length === 0 || ctx.messages[0]!.role !== "system";
  throw new Error(`template: unsupported condition ${cond}`);
}

function run(nodes: Node[], ctx: Ctx): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "range") for (const [index, m] of ctx.messages.entries()) out += run(n.body, { ...ctx, msg: m, index });
    else if (n.kind === "if") out += run(n.branches.find((b) => b.cond === null || test(b.cond, ctx))?.body ?? [], ctx);
    else if (n.expr === ".Content") out += ctx.msg?.content ?? "";
    else if (n.expr === ".System") out += ctx.system;
    else if (n.expr === ".Prompt") out += ctx.messages.at(-1)?.content ?? "";
    else throw new Error(`template: unsupported action {{ ${n.expr} }}`);
  }
  return out;
}

export function renderGoTemplate(template: string, messages: Msg[], system = ""): string {
  const [nodes] = parse(lex(template));
  return run(nodes, { messages, system });
}

/** Throws as Ollama's create does on a template it cannot parse. */
export function checkGoTemplate(template: string): void {
  parse(lex(template));
}
