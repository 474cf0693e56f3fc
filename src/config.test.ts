import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, parseConfig } from "./config.ts";

test("defaults to 127.0.0.1:8000 and ./data", () => {
  expect(parseConfig({})).toMatchObject({ port: 8000, host: "127.0.0.1", dataDir: resolve("./data"), logLevel: "info" });
  expect(parseConfig({}).hub).toEqual({ endpoint: "https://huggingface.co", token: undefined, timeoutMs: 10_000 });
});

test("reads PORT, HOST, FTF_DATA_DIR and LOG_LEVEL", () => {
  const c = parseConfig({ PORT: "9001", HOST: "0.0.0.0", FTF_DATA_DIR: "/tmp/x", LOG_LEVEL: "debug", FTF_AUTH_TOKEN: "a-long-random-token-123" });
  expect(c).toMatchObject({ port: 9001, host: "0.0.0.0", dataDir: "/tmp/x", logLevel: "debug", authToken: "a-long-random-token-123" });
});

test("treats empty variables as unset", () => {
  expect(parseConfig({ PORT: "", LOG_LEVEL: "" }).port).toBe(8000);
});

test.each([
  [{ PORT: "eighty" }, "PORT"],
  [{ PORT: "70000" }, "PORT"],
  [{ PORT: "80.5" }, "PORT"],
  [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
  [{ HF_ENDPOINT: "not a url" }, "HF_ENDPOINT"],
  [{ HF_ENDPOINT: "ftp://mirror" }, "HF_ENDPOINT"],
  [{ FTF_HUB_TIMEOUT_MS: "soon" }, "FTF_HUB_TIMEOUT_MS"],
])("a bad value stops start-up with a sentence naming the variable: %j", (env, name) => {
  expect(() => parseConfig(env)).toThrow(ConfigError);
  try {
    parseConfig(env);
  } catch (e) {
    expect((e as Error).message).toContain(`- ${name}:`);
    expect((e as Error).message).toContain("Invalid configuration");
  }
});

test("reads the Hub endpoint, token and timeout", () => {
  const c = parseConfig({ HF_ENDPOINT: "http://127.0.0.1:9999", HF_TOKEN: "hf_abc", FTF_HUB_TIMEOUT_MS: "2500" });
  expect(c.hub).toEqual({ endpoint: "http://127.0.0.1:9999", token: "hf_abc", timeoutMs: 2500 });
});

test("refuses to bind beyond loopback without an access token, saying why", () => {
  for (const HOST of ["0.0.0.0", "192.168.1.20", "::"]) {
    expect(() => parseConfig({ HOST })).toThrow(/Refusing to listen on .* without an access token.*FTF_AUTH_TOKEN/);
  }
  expect(parseConfig({ HOST: "127.0.0.1" }).authToken).toBeUndefined();
  expect(parseConfig({ HOST: "::1" }).host).toBe("::1");
  expect(() => parseConfig({ HOST: "0.0.0.0", FTF_AUTH_TOKEN: "short" })).toThrow("FTF_AUTH_TOKEN: must be at least 16 characters");
});
