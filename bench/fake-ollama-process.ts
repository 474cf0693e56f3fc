// Runs the loopback Ollama in its own process so the benchmark's CPU time is ours alone.
import { startFakeOllama } from "../tests/fakes/fake-ollama.ts";

const latencyMs = Number(process.argv[2] ?? 200);
const capacity = Number(process.argv[3] ?? 4);
const fake = startFakeOllama({ latencyMs, capacity });
console.log(fake.url);
