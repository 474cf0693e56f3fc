import { pageCsrfToken } from "../../src/security/page-token.ts";
import { Layout } from "../layouts/Layout.tsx";

export function LoginPage(props: { next?: string; error?: string }) {
  return (
    <Layout title="Sign in">
      <form method="post" action="/login" class="form card login-form">
        <h1>Sign in</h1>
        <p class="muted">This FineTuneFlow is shared on the network. Enter the access token it was started with (FTF_AUTH_TOKEN).</p>
        {props.error ? (
          <div class="form-error" role="alert">
            {props.error}
          </div>
        ) : null}
        <input type="hidden" name="_csrf" value={pageCsrfToken()} />
        <input type="hidden" name="next" value={props.next ?? "/"} />
        <div class="field">
          <label for="token">Access token</label>
          <input id="token" name="token" type="password" required autocomplete="current-password" autofocus />
        </div>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Sign in
          </button>
        </div>
      </form>
    </Layout>
  );
}
