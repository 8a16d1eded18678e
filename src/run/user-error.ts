/**
 * @file An error the user can fix (a flag, a run directory): printed as one line, never with
 * a stack trace. It lives here, below the CLI, so the run orchestration can throw it too.
 */
export class UserError extends Error {}
