// Files imported with `with { type: "text" }` / `{ type: "file" }` (embedded by bun build --compile).
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "*.min.js" {
  const path: string;
  export default path;
}
declare module "*/public/app.js" {
  const path: string;
  export default path;
}
declare module "*/public/components.js" {
  const path: string;
  export default path;
}
declare module "*/public/train.js" {
  const path: string;
  export default path;
}
declare module "*.txt" {
  const text: string;
  export default text;
}
declare module "*.jinja" {
  const text: string;
  export default text;
}
declare module "*/public/playground.js" {
  const path: string;
  export default path;
}
