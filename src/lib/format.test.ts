import { expect, test } from "bun:test";
import { formatBytes, relativeTime } from "./format.ts";

test("relative times read like a person would say them", () => {
  const now = Date.UTC(2026, 0, 10);
  expect(relativeTime(now - 5_000, now)).toBe("just now");
  expect(relativeTime(now - 5 * 60_000, now)).toBe("5m ago");
  expect(relativeTime(now - 2 * 3600_000, now)).toBe("2h ago");
  expect(relativeTime(now - 3 * 24 * 3600_000, now)).toBe("3d ago");
  expect(relativeTime(now - 400 * 24 * 3600_000, now)).toBe("1y ago");
  expect(relativeTime(now + 60_000, now)).toBe("just now");
});

test("byte sizes use binary units", () => {
  expect(formatBytes(512)).toBe("512 B");
  expect(formatBytes(1536)).toBe("1.5 KB");
  expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
});
