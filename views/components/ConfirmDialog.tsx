/**
 * One native <dialog> shared by the whole page. public/app.js opens it for any
 * element with `hx-confirm` (the question) and optional `data-confirm-label`
 * (the button text), and only then lets htmx send the request.
 */
export function ConfirmDialog() {
  return (
    <dialog id="confirm-dialog" class="dialog" aria-labelledby="confirm-dialog-title" aria-describedby="confirm-dialog-message">
      <form method="dialog">
        <h2 id="confirm-dialog-title">Please confirm</h2>
        <p id="confirm-dialog-message"></p>
        <div class="dialog-actions">
          <button type="submit" value="cancel" class="btn" autofocus>
            Cancel
          </button>
          <button type="submit" value="confirm" class="btn btn-danger" id="confirm-dialog-accept">
            Confirm
          </button>
        </div>
      </form>
    </dialog>
  );
}
