/**
 * The llm-infra policy pack. Run it with the environment's configuration:
 *   pulumi preview -s prod --policy-pack policy --policy-pack-config policy/config/prod.json
 * The policies live in their modules; `npm run plan` evaluates the same ones offline.
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES } from "./policies";

new PolicyPack("llm-infra", { policies: ALL_POLICIES });
