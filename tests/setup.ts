// Preloaded by bun test (bunfig.toml). An unexpected console.error fails the test that
// caused it: errors must be handled and reported, not printed and forgotten.
import { afterEach, beforeEach } from "bun:test";

// Every JSON answer of the API is checked against its documented schema (lib/api-operations.ts);
// servers the tests spawn inherit it.
process.env.FTF_CHECK_API_RESPONSES ??= "1";

let errors: unknown[][] = [];
const original = console.error;

beforeEach(() => {
  errors = [];
  console.error = (...args: unknown[]) => {
    errors.push(args);
    original(...args);
  };
});

afterEach(() => {
  console.error = original;
  if (errors.length > 0) {
    const first = errors[0]!.map(String).join(" ");
    errors = [];
    throw new Error(`console.error was called during the test: ${first}`);
  }
});
