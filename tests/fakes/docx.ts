/** DOCX files assembled by code: the minimal parts Word and mammoth need, zipped with fflate. */
import { strToU8, zipSync, type Zippable } from "fflate";

export type DocxPart = { heading?: { level: number; text: string } } | { para: string } | { bullet: string } | { table: string[][] };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const run = (text: string) => `<w:r><w:t xml:space="preserve">${esc(text)}</w:t></w:r>`;

function body(parts: DocxPart[]): string {
  return parts
    .map((p) => {
      if ("heading" in p && p.heading) return `<w:p><w:pPr><w:pStyle w:val="Heading${p.heading.level}"/></w:pPr>${run(p.heading.text)}</w:p>`;
      if ("para" in p) return `<w:p>${run(p.para)}</w:p>`;
      if ("bullet" in p) return `<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>${run(p.bullet)}</w:p>`;
      if ("table" in p) return `<w:tbl>${p.table.map((row) => `<w:tr>${row.map((c) => `<w:tc><w:p>${run(c)}</w:p></w:tc>`).join("")}</w:tr>`).join("")}</w:tbl>`;
      return "";
    })
    .join("");
}

export function buildDocx(parts: DocxPart[], extra: Zippable = {}): Uint8Array {
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  return zipSync({
    "[Content_Types].xml": strToU8(
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ),
    "_rels/.rels": strToU8(
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    "word/document.xml": strToU8(`<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${body(parts)}</w:body></w:document>`),
    ...extra,
  });
}

/** A valid zip that is not a Word document. */
export function buildPlainZip(): Uint8Array {
  return zipSync({ "notes.txt": strToU8("just a zip") });
}
