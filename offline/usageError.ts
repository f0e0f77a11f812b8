import * as pulumi from "@pulumi/pulumi";

/** A usage problem (unknown stack, unreadable file): the CLI exits 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Errors a user can fix: one message, exit status 2. Usage errors, a component's invalid
 * arguments (`InputPropertiesError`), and `RunError`, which is how a Pulumi program reports a
 * mistake without a stack trace (the Node.js language host prints a RunError's message alone:
 * @pulumi/pulumi cmd/run/run.js, "Always hide the stack for RunErrors"); this package's stack
 * configuration errors (programs/config.ts `ConfigError`) are RunErrors.
 */
export function isUserError(e: unknown): e is Error {
  return (
    e instanceof UsageError ||
    pulumi.InputPropertiesError.isInstance(e) ||
    pulumi.RunError.isInstance(e)
  );
}
