/**
 * Writes small, valid PDFs by code for the extraction tests: Latin text pages
 * (Helvetica), CJK pages (a non-embedded Type0 font with the UniJIS-UCS2-H CMap,
 * which pdf.js can only read with its CMap files), image-only pages (a scan),
 * and a password-protected file (a Standard security handler that the empty
 * password does not open).
 */
export type PdfPage =
  | { lines: string[]; cjk?: string[]; fields?: { name: string; value: string }[]; notes?: string[] }
  | { cjk: string[] }
  | { imageOnly: true };

export function buildPdf(pages: PdfPage[], opts: { encrypted?: boolean } = {}): Buffer {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body) - 1 + 1; // 1-based object numbers
  const catalog = add("");
  const pagesObj = add("");
  const helvetica = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  const cidFont = add(
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3 /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor " +
      `${objects.length + 2} 0 R >>`,
  );
  const cjkFont = add(`<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3-UniJIS-UCS2-H /Encoding /UniJIS-UCS2-H /DescendantFonts [${cidFont} 0 R] >>`);
  add("<< /Type /FontDescriptor /FontName /HeiseiMin-W3 /Flags 6 /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>");
  const image = add("<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 4 >>\nstream\n\x00\xff\xff\x00\nendstream");
  const kids: number[] = [];
  const fields: number[] = [];
  for (const page of pages) {
    let content: string;
    let annots: number[] = [];
    if ("lines" in page) {
      content = "BT /F1 12 Tf 14 TL 72 720 Td " + page.lines.map((l) => `(${escapePdf(l)}) '`).join(" ") + " ET";
      // A Japanese line on the same page as Latin text (the CID font beside Helvetica).
      if (page.cjk) content += " BT /F2 14 Tf 16 TL 72 500 Td " + page.cjk.map((l) => `<${utf16beHex(l)}> '`).join(" ") + " ET";
      // AcroForm text fields: the value lives in /V, with no text in the page's content.
      annots = (page.fields ?? []).map((f, i) =>
        add(`<< /Type /Annot /Subtype /Widget /FT /Tx /T (${escapePdf(f.name)}) /V (${escapePdf(f.value)}) /Rect [72 ${300 - i * 30} 300 ${320 - i * 30}] /F 4 >>`),
      );
      fields.push(...annots);
      // Sticky notes: their text lives in /Contents.
      annots.push(...(page.notes ?? []).map((n, i) => add(`<< /Type /Annot /Subtype /Text /Contents (${escapePdf(n)}) /Rect [${400 + i * 30} 700 ${420 + i * 30} 720] /F 4 >>`)));
    } else if ("cjk" in page) {
      content = "BT /F2 14 Tf 16 TL 72 720 Td " + page.cjk.map((l) => `<${utf16beHex(l)}> '`).join(" ") + " ET";
    } else {
      content = "q 200 0 0 200 72 500 cm /Im1 Do Q";
    }
    const stream = add(`<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792]${annots.length ? ` /Annots [${annots.map((a) => `${a} 0 R`).join(" ")}]` : ""} /Contents ${stream} 0 R /Resources << /Font << /F1 ${helvetica} 0 R /F2 ${cjkFont} 0 R >> /XObject << /Im1 ${image} 0 R >> >> >>`,
      ),
    );
  }
  const acroForm = fields.length ? ` /AcroForm << /Fields [${fields.map((f) => `${f} 0 R`).join(" ")}] >>` : "";
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R${acroForm} >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`;
  const encrypt = opts.encrypted
    ? add(`<< /Filter /Standard /V 1 /R 2 /O <${"a5".repeat(32)}> /U <${"5b".repeat(32)}> /P -44 >>`)
    : null;

  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  const id = "<0123456789abcdef0123456789abcdef>";
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${encrypt ? ` /Encrypt ${encrypt} 0 R /ID [${id} ${id}]` : ""} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

function escapePdf(s: string): string {
  return s.replace(/[\\()]/g, (c) => `\\${c}`);
}

function utf16beHex(s: string): string {
  return [...s].map((ch) => ch.charCodeAt(0).toString(16).padStart(4, "0")).join("");
}
