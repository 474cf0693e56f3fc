/** A server error shown to the user: swapped into #toasts by htmx (HX-Retarget), dismissed by app.js. */
export function ErrorToast(props: { message: string; code?: string }) {
  return (
    <div class="toast toast-error" role="alert" data-error-code={props.code}>
      <span class="toast-message">{props.message}</span>
      <button type="button" class="toast-close" aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
