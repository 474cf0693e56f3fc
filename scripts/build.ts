/**
 * Release build: one executable embedding views, static assets, migrations and
 * prompt templates, plus pdf.js's CMap and font data beside it.
 * `npm run build` → dist/finetuneflow. Tests and benchmarks call buildBinary() too.
 */
import { cpSync } from "node:fs";
import { dirname, join } from "node:path";

export async function buildBinary(outfile = join(import.meta.dir, "../dist/finetuneflow")): Promise<string> {
  const proc = Bun.spawn(
    [process.execPath, "build", "--compile", "--minify", "--sourcemap", join(import.meta.dir, "../src/main.ts"), "--outfile", outfile],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`bun build --compile failed (${code}):\n${out}\n${err}`);
  // pdf.js reads its CMaps (CJK fonts) and standard fonts from disk: ship them beside the binary.
  for (const dir of ["cmaps", "standard_fonts"]) {
    cpSync(join(import.meta.dir, "../node_modules/pdfjs-dist", dir), join(dirname(outfile), "node_modules/pdfjs-dist", dir), { recursive: true });
  }
  return outfile;
}

if (import.meta.main) {
  const path = await buildBinary(process.argv[2]);
  console.log(`built ${path}`);
}
