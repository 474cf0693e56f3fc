/** A test app with a fake trainer and a project ready to train, and helpers to read its runs. */
import { insertReadyProject } from "./builders.ts";
import { FAKE_TRAINER, makeTestApp, type TestApp } from "./test-app.ts";

export function trainingHarness() {
  const h = {
    t: undefined as unknown as TestApp,
    /** A project with a model, a task, 20 train and 3 eval examples and a hardware check; `env` drives the fake trainer. */
    setup(env: Record<string, string> = {}, graceMs = 2000) {
      h.t = makeTestApp({ trainer: { command: FAKE_TRAINER, env, graceMs } });
      return insertReadyProject(h.t.db);
    },
    start: (pid: string, body: unknown = { num_epochs: 1 }) => h.t.json("POST", `/api/projects/${pid}/train/start`, body),
    events: (runId: string) => h.t.db.$client.query("select seq, event from run_metrics where run_id = ? order by seq").all(runId) as { seq: number; event: string }[],
    status: async (pid: string) => (await h.t.request(`/api/projects/${pid}/train/status`)).json(),
  };
  return h;
}

/** Polls a condition (a state the app reaches on its own), failing after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

/** A ready project whose first run (fake trainer, one epoch) succeeded. */
export async function insertTrainedProject(t: TestApp): Promise<string> {
  const pid = insertReadyProject(t.db);
  const res = await t.json("POST", `/api/projects/${pid}/train/start`, { num_epochs: 1 });
  if (res.status !== 202) throw new Error(`train/start answered ${res.status}`);
  await t.queue.runUntilEmpty();
  return pid;
}
