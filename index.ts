/**
 * The package's TypeScript entry point for `pulumi package add` (see PulumiPlugin.yaml): the
 * component analyzer reads argument types and their docs from TypeScript source, and it looks for
 * an index.ts at the package root when package.json points at compiled JavaScript.
 */
export * from "./components";
