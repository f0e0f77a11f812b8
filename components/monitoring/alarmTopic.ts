import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmTopicKeyPolicy, alarmTopicPolicy } from "../sagemaker/policies";
import { Tags } from "../tags";
import { partitionOf } from "../trust";

export interface AlarmTopicArgs {
  /** The region the topic and the alarms publishing to it are in. */
  region: string;
  /** Tags for the key and the topic. */
  tags?: Tags;
}

/**
 * The stack's alarm topic: every alarm of every serving path notifies it. An SNS topic under its
 * own KMS key, with a topic policy and a key policy that let CloudWatch alarms of this account and
 * region publish (and nothing over plain HTTP). Subscribe the on-call channel to `topicArn`.
 */
export class AlarmTopic extends pulumi.ComponentResource {
  /** The topic's ARN. */
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-infra:index:AlarmTopic", name, {}, opts);
    const child = { parent: this };
    const partition = partitionOf(args.region);
    const region = args.region;
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Alarm notifications of the stack",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: accountId.apply((id) =>
          JSON.stringify(alarmTopicKeyPolicy({ partition, region, accountId: id })),
        ),
        tags: args.tags,
      },
      child,
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { kmsMasterKeyId: key.id, tags: args.tags },
      child,
    );
    new aws.sns.TopicPolicy(
      `${name}-topic`,
      {
        arn: topic.arn,
        policy: pulumi
          .all([topic.arn, accountId])
          .apply(([arn, id]) =>
            JSON.stringify(alarmTopicPolicy(arn, { partition, region, accountId: id })),
          ),
      },
      child,
    );
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}
