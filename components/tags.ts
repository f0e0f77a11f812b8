import * as pulumi from "@pulumi/pulumi";

/** Tags as components accept them: applied to every taggable child. */
export type Tags = pulumi.Input<Record<string, pulumi.Input<string>>>;

/** The caller's tags plus the component's own (the component's win on a clash). */
export function withTags(tags: Tags | undefined, extra: Record<string, string>): Tags {
  return pulumi.output(tags ?? {}).apply((t) => ({ ...t, ...extra }));
}
