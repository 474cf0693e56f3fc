// Runs the loopback Hub in its own process, serving one model with a large weights
// file, so the benchmark's memory and CPU time are the downloader's alone.
import { startFakeHub } from "../tests/fakes/fake-hub.ts";

const megabytes = Number(process.argv[2] ?? 512);
const weights = new Uint8Array(megabytes * 1024 * 1024);
for (let i = 0; i < weights.length; i += 4096) weights[i] = i & 0xff;
const hub = startFakeHub([{ id: "bench/model", files: { "config.json": '{"model_type":"llama"}', "model.safetensors": weights } }]);
console.log(hub.url);
