/** Writes a tiny local model folder: a Llama config.json and a safetensors file with known shapes. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function safetensorsBytes(tensors: Record<string, number[]>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: "BF16", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerJson = JSON.stringify(header);
  headerJson += " ".repeat((8 - (headerJson.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerJson.length));
  return Buffer.concat([len, Buffer.from(headerJson), Buffer.alloc(offset)]);
}

export const TINY_LLAMA_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  vocab_size: 256,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 512,
  tie_word_embeddings: false,
};

/** Tensors of TINY_LLAMA_CONFIG, named as transformers names them. */
export function tinyLlamaTensors(): Record<string, number[]> {
  const t: Record<string, number[]> = { "model.embed_tokens.weight": [256, 32], "model.norm.weight": [32], "lm_head.weight": [256, 32] };
  for (let i = 0; i < 2; i++) {
    const p = `model.layers.${i}`;
    Object.assign(t, {
      [`${p}.self_attn.q_proj.weight`]: [32, 32],
      [`${p}.self_attn.k_proj.weight`]: [16, 32],
      [`${p}.self_attn.v_proj.weight`]: [16, 32],
      [`${p}.self_attn.o_proj.weight`]: [32, 32],
      [`${p}.mlp.gate_proj.weight`]: [64, 32],
      [`${p}.mlp.up_proj.weight`]: [64, 32],
      [`${p}.mlp.down_proj.weight`]: [32, 64],
      [`${p}.input_layernorm.weight`]: [32],
      [`${p}.post_attention_layernorm.weight`]: [32],
    });
  }
  return t;
}

export function writeTinyModelFolder(dir: string, opts: { readme?: string; shards?: number } = {}): { dir: string; params: number } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(TINY_LLAMA_CONFIG));
  const tensors = Object.entries(tinyLlamaTensors());
  const shards = opts.shards ?? 1;
  const per = Math.ceil(tensors.length / shards);
  for (let s = 0; s < shards; s++) {
    const name = shards === 1 ? "model.safetensors" : `model-0000${s + 1}-of-0000${shards}.safetensors`;
    writeFileSync(join(dir, name), safetensorsBytes(Object.fromEntries(tensors.slice(s * per, (s + 1) * per))));
  }
  if (opts.readme) writeFileSync(join(dir, "README.md"), opts.readme);
  const params = tensors.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  return { dir, params };
}
