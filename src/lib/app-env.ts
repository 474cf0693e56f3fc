/** The variables every request carries through the app (set by the first middlewares). */
export type AppEnv = { Variables: { requestId: string; csrfToken: string; signInEnabled: boolean } };
