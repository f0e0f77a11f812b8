/** Every policy of the pack, in the order verdicts are reported. */
import { Policies } from "@pulumi/policy";
import { COST_POLICIES } from "./costPolicies";
import { IAM_POLICIES } from "./iamPolicies";
import { INSTANCE_POLICIES } from "./instancePolicies";
import { SECURITY_POLICIES } from "./securityPolicies";
import { TAG_POLICIES } from "./tagPolicies";
import { WHOLE_STACK_POLICIES } from "./wholeStackPolicies";

export const ALL_POLICIES: Policies = [
  ...COST_POLICIES,
  ...INSTANCE_POLICIES,
  ...SECURITY_POLICIES,
  ...IAM_POLICIES,
  ...TAG_POLICIES,
  ...WHOLE_STACK_POLICIES,
];
