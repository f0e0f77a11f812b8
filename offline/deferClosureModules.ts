/**
 * Imported first by the plan command, before anything loads the Pulumi SDK: defers the two
 * modules of its closure serializer the plan never uses (see ./deferredModules).
 */
import { deferClosureModules } from "./deferredModules";

deferClosureModules();
