/**
 * The stack program; Pulumi.yaml's `main` is its compiled form, dist/programs/index.js.
 * `pulumi up -s <stack>` runs it with the stack's config; the exported function's result becomes
 * the stack outputs.
 */
import { loadStackConfig } from "./config";
import { createPlatform } from "./platform";

export = () => createPlatform(loadStackConfig());
