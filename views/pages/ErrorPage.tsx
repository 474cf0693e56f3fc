import { Layout } from "../layouts/Layout.tsx";

const TITLES: Record<number, string> = { 400: "Bad request", 404: "Not found", 413: "Too large", 422: "Invalid input" };

export function ErrorPage(props: { status: number; message: string }) {
  const title = TITLES[props.status] ?? "Something went wrong";
  return (
    <Layout title={title}>
      <section class="error-page card" aria-labelledby="error-title">
        <p class="error-status">{props.status}</p>
        <h1 id="error-title">{title}</h1>
        <p>{props.message}</p>
        <a class="btn btn-primary" href="/">
          Back to projects
        </a>
      </section>
    </Layout>
  );
}
