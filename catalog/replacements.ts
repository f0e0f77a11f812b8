/**
 * The input properties whose change replaces a resource (delete and create) rather than updating
 * it, for every resource type the package creates. `plan --against` (offline/changes.ts) reads it.
 *
 * Transcribed from the providers' sources, each entry's file named above it:
 * - AWS (`aws:`): @pulumi/aws 7.48.0 is generated from hashicorp/terraform-provider-aws v6; an
 *   attribute with `ForceNew: true` (SDKv2) or a `RequiresReplace` plan modifier (Plugin
 *   Framework) replaces, under internal/service/<service>/. `region` replaces every regional
 *   resource (internal/provider/sdkv2/region.go, framework/region.go: forceNewIfRegionChanges),
 *   except between unset and the provider's own region. A nested attribute that forces new is
 *   listed as its top-level property. Inputs newer than the Terraform sources read (e.g. S3's
 *   `bucketNamespace`, an Auto Scaling group's `capacityReservationSpecification`) are left out.
 * - Kubernetes: pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (`forceNew` table and
 *   metadata.name/namespace), helm_release.go (a Release replaces on name and namespace only),
 *   provider.go DiffConfig (the provider replaces on clusterIdentifier and renderYamlToDirectory,
 *   and on kubeconfig, context or cluster only when the active cluster itself changes, which a
 *   plan offline cannot see). Dotted paths name nested fields.
 * - AWS Cloud Control (`aws-native:`): @pulumi/aws-native 1.79.0 sets `replaceOnChanges` from the
 *   CloudFormation type's create-only properties in each resource's constructor
 *   (sagemaker/<resource>.js); `productionVariants[*]` is listed as `productionVariants`.
 * - Components: pulumi/pulumi-awsx awsx/ec2/vpc.ts (the inputs that replace the aws.ec2.Vpc) and
 *   pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts v4.3.0 (the inputs that replace the
 *   aws.eks.Cluster; subnets update it in place in Terraform v6).
 *
 * test/changes.test.ts holds every type the shipped stacks create to an entry here, and each AWS
 * property to an input of its type in @pulumi/aws.
 */
export const REPLACEMENTS: Record<string, readonly string[]> = {
  // terraform-provider-aws internal/service/amp/scraper.go
  "aws:amp/scraper:Scraper": ["source", "region"],
  // terraform-provider-aws internal/service/amp/workspace.go
  "aws:amp/workspace:Workspace": ["kmsKeyArn", "region"],
  // terraform-provider-aws internal/service/apigateway/account.go
  "aws:apigateway/account:Account": ["region"],
  // terraform-provider-aws internal/service/apigateway/api_key.go
  "aws:apigateway/apiKey:ApiKey": ["value", "region"],
  // terraform-provider-aws internal/service/apigateway/deployment.go
  "aws:apigateway/deployment:Deployment": ["restApi", "triggers", "variables", "region"],
  // terraform-provider-aws internal/service/apigateway/integration.go
  "aws:apigateway/integration:Integration": [
    "credentials",
    "httpMethod",
    "integrationHttpMethod",
    "passthroughBehavior",
    "region",
    "resourceId",
    "restApi",
    "type",
  ],
  // terraform-provider-aws internal/service/apigateway/integration_response.go
  "aws:apigateway/integrationResponse:IntegrationResponse": [
    "httpMethod",
    "resourceId",
    "restApi",
    "region",
  ],
  // terraform-provider-aws internal/service/apigateway/method.go
  "aws:apigateway/method:Method": ["httpMethod", "resourceId", "restApi", "region"],
  // terraform-provider-aws internal/service/apigateway/method_response.go
  "aws:apigateway/methodResponse:MethodResponse": ["httpMethod", "resourceId", "restApi", "region"],
  // terraform-provider-aws internal/service/apigateway/method_settings.go
  "aws:apigateway/methodSettings:MethodSettings": ["methodPath", "region", "restApi", "stageName"],
  // terraform-provider-aws internal/service/apigateway/model.go
  "aws:apigateway/model:Model": ["contentType", "name", "restApi", "region"],
  // terraform-provider-aws internal/service/apigateway/request_validator.go
  "aws:apigateway/requestValidator:RequestValidator": ["restApi", "region"],
  // terraform-provider-aws internal/service/apigateway/resource.go
  "aws:apigateway/resource:Resource": ["restApi", "region"],
  // terraform-provider-aws internal/service/apigateway/rest_api.go
  "aws:apigateway/restApi:RestApi": ["region"],
  // terraform-provider-aws internal/service/apigateway/stage.go
  "aws:apigateway/stage:Stage": ["restApi", "stageName", "region"],
  // terraform-provider-aws internal/service/apigateway/usage_plan.go
  "aws:apigateway/usagePlan:UsagePlan": ["region"],
  // terraform-provider-aws internal/service/apigateway/usage_plan_key.go
  "aws:apigateway/usagePlanKey:UsagePlanKey": ["keyId", "keyType", "usagePlanId", "region"],
  // terraform-provider-aws internal/service/appautoscaling/policy.go
  "aws:appautoscaling/policy:Policy": [
    "name",
    "region",
    "resourceId",
    "scalableDimension",
    "serviceNamespace",
  ],
  // terraform-provider-aws internal/service/appautoscaling/target.go
  "aws:appautoscaling/target:Target": [
    "resourceId",
    "scalableDimension",
    "serviceNamespace",
    "region",
  ],
  // terraform-provider-aws internal/service/autoscaling/group.go
  "aws:autoscaling/group:Group": ["name", "namePrefix", "initialLifecycleHooks", "region"],
  // terraform-provider-aws internal/service/autoscaling/policy.go
  "aws:autoscaling/policy:Policy": ["autoscalingGroupName", "name", "region"],
  // terraform-provider-aws internal/service/autoscaling/schedule.go
  "aws:autoscaling/schedule:Schedule": ["autoscalingGroupName", "region", "scheduledActionName"],
  // terraform-provider-aws internal/service/autoscaling/group_tag.go
  "aws:autoscaling/tag:Tag": ["autoscalingGroupName", "tag", "region"],
  // terraform-provider-aws internal/service/cloudwatch/dashboard.go
  "aws:cloudwatch/dashboard:Dashboard": ["dashboardName", "region"],
  // terraform-provider-aws internal/service/events/rule.go
  "aws:cloudwatch/eventRule:EventRule": ["eventBusName", "name", "namePrefix", "region"],
  // terraform-provider-aws internal/service/events/target.go
  "aws:cloudwatch/eventTarget:EventTarget": ["eventBusName", "rule", "targetId", "region"],
  // terraform-provider-aws internal/service/logs/group.go
  "aws:cloudwatch/logGroup:LogGroup": ["logGroupClass", "name", "namePrefix", "region"],
  // terraform-provider-aws internal/service/cloudwatch/metric_alarm.go
  "aws:cloudwatch/metricAlarm:MetricAlarm": ["name", "region"],
  // terraform-provider-aws internal/service/codebuild/project.go
  "aws:codebuild/project:Project": ["name", "region"],
  // terraform-provider-aws internal/service/ec2/vpc_flow_log.go
  "aws:ec2/flowLog:FlowLog": [
    "deliverCrossAccountRole",
    "destinationOptions",
    "eniId",
    "iamRoleArn",
    "logDestination",
    "logDestinationType",
    "logFormat",
    "maxAggregationInterval",
    "regionalNatGatewayId",
    "subnetId",
    "trafficType",
    "transitGatewayAttachmentId",
    "transitGatewayId",
    "vpcId",
    "region",
  ],
  // terraform-provider-aws internal/service/ec2/ec2_launch_template.go
  "aws:ec2/launchTemplate:LaunchTemplate": ["name", "namePrefix", "region"],
  // terraform-provider-aws internal/service/ec2/vpc_security_group.go
  "aws:ec2/securityGroup:SecurityGroup": ["description", "name", "namePrefix", "region", "vpcId"],
  // terraform-provider-aws internal/service/ec2/ec2_tag.go (the value updates in place)
  "aws:ec2/tag:Tag": ["key", "resourceId", "region"],
  // terraform-provider-aws internal/service/ec2/vpc_endpoint.go
  "aws:ec2/vpcEndpoint:VpcEndpoint": [
    "serviceName",
    "resourceConfigurationArn",
    "serviceNetworkArn",
    "serviceRegion",
    "vpcEndpointType",
    "vpcId",
    "dnsOptions",
    "privateDnsEnabled",
    "region",
  ],
  // terraform-provider-aws internal/service/ecr/lifecycle_policy.go
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": ["policy", "repository", "region"],
  // terraform-provider-aws internal/service/ecr/repository.go
  "aws:ecr/repository:Repository": ["encryptionConfigurations", "name", "region"],
  // terraform-provider-aws internal/service/efs/access_point.go
  "aws:efs/accessPoint:AccessPoint": ["fileSystemId", "posixUser", "region", "rootDirectory"],
  // terraform-provider-aws internal/service/efs/backup_policy.go
  "aws:efs/backupPolicy:BackupPolicy": ["fileSystemId", "region"],
  // terraform-provider-aws internal/service/efs/file_system.go
  "aws:efs/fileSystem:FileSystem": [
    "availabilityZoneName",
    "creationToken",
    "encrypted",
    "kmsKeyId",
    "performanceMode",
    "region",
  ],
  // terraform-provider-aws internal/service/efs/mount_target.go
  "aws:efs/mountTarget:MountTarget": [
    "fileSystemId",
    "ipAddress",
    "ipAddressType",
    "ipv6Address",
    "subnetId",
    "region",
  ],
  // terraform-provider-aws internal/service/eks/access_entry.go
  "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn", "type", "region"],
  // terraform-provider-aws internal/service/eks/access_policy_association.go (no update at all)
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": [
    "accessScope",
    "clusterName",
    "policyArn",
    "principalArn",
    "region",
  ],
  // terraform-provider-aws internal/service/eks/addon.go
  "aws:eks/addon:Addon": ["addonName", "clusterName", "namespaceConfig", "region"],
  // terraform-provider-aws internal/service/eks/node_group.go
  "aws:eks/nodeGroup:NodeGroup": [
    "amiType",
    "capacityType",
    "clusterName",
    "diskSize",
    "instanceTypes",
    "launchTemplate",
    "nodeGroupName",
    "nodeGroupNamePrefix",
    "nodeRoleArn",
    "remoteAccess",
    "subnetIds",
    "region",
  ],
  // terraform-provider-aws internal/service/eks/pod_identity_association.go
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": [
    "clusterName",
    "namespace",
    "serviceAccount",
    "region",
  ],
  // terraform-provider-aws internal/service/iam/instance_profile.go
  "aws:iam/instanceProfile:InstanceProfile": ["name", "namePrefix", "path"],
  // terraform-provider-aws internal/service/iam/role.go
  "aws:iam/role:Role": ["name", "namePrefix", "path"],
  // terraform-provider-aws internal/service/iam/role_policy.go
  "aws:iam/rolePolicy:RolePolicy": ["name", "namePrefix", "role"],
  // terraform-provider-aws internal/service/iam/role_policy_attachment.go
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["policyArn", "role"],
  // terraform-provider-aws internal/service/kms/key.go
  "aws:kms/key:Key": [
    "customKeyStoreId",
    "customerMasterKeySpec",
    "keyUsage",
    "multiRegion",
    "xksKeyId",
    "region",
  ],
  // terraform-provider-aws internal/service/elbv2/listener.go
  "aws:lb/listener:Listener": ["loadBalancerArn", "region"],
  // terraform-provider-aws internal/service/elbv2/load_balancer.go
  "aws:lb/loadBalancer:LoadBalancer": [
    "name",
    "namePrefix",
    "internal",
    "loadBalancerType",
    "customerOwnedIpv4Pool",
    "subnets",
    "subnetMappings",
    "securityGroups",
    "region",
  ],
  // terraform-provider-aws internal/service/elbv2/target_group.go
  "aws:lb/targetGroup:TargetGroup": [
    "ipAddressType",
    "name",
    "namePrefix",
    "port",
    "protocol",
    "protocolVersion",
    "targetType",
    "vpcId",
    "region",
  ],
  // terraform-provider-aws internal/service/s3/bucket.go
  "aws:s3/bucket:Bucket": [
    "bucket",
    "bucketPrefix",
    "objectLockEnabled",
    "objectLockConfiguration",
    "region",
  ],
  // terraform-provider-aws internal/service/s3/bucket_lifecycle_configuration.go
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
    "bucket",
    "expectedBucketOwner",
    "region",
  ],
  // terraform-provider-aws internal/service/s3/bucket_logging.go
  "aws:s3/bucketLogging:BucketLogging": ["bucket", "expectedBucketOwner", "region"],
  // terraform-provider-aws internal/service/s3/bucket_ownership_controls.go
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ["bucket", "region"],
  // terraform-provider-aws internal/service/s3/bucket_policy.go
  "aws:s3/bucketPolicy:BucketPolicy": ["bucket", "region"],
  // terraform-provider-aws internal/service/s3/bucket_public_access_block.go
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["bucket", "region"],
  // terraform-provider-aws internal/service/s3/bucket_server_side_encryption_configuration.go
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
    "bucket",
    "expectedBucketOwner",
    "region",
  ],
  // terraform-provider-aws internal/service/s3/bucket_versioning.go
  "aws:s3/bucketVersioning:BucketVersioning": ["bucket", "expectedBucketOwner", "region"],
  // terraform-provider-aws internal/service/sagemaker/endpoint.go
  "aws:sagemaker/endpoint:Endpoint": ["name", "deploymentConfig", "region"],
  // terraform-provider-aws internal/service/sagemaker/endpoint_configuration.go
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": [
    "asyncInferenceConfig",
    "dataCaptureConfig",
    "executionRoleArn",
    "kmsKeyArn",
    "name",
    "namePrefix",
    "productionVariants",
    "region",
    "shadowProductionVariants",
  ],
  // terraform-provider-aws internal/service/sagemaker/model.go
  "aws:sagemaker/model:Model": [
    "containers",
    "enableNetworkIsolation",
    "executionRoleArn",
    "inferenceExecutionConfig",
    "name",
    "primaryContainer",
    "vpcConfig",
    "region",
  ],
  // @pulumi/aws-native 1.79.0 sagemaker/endpointConfig.js: every input but tags.
  "aws-native:sagemaker:EndpointConfig": [
    "asyncInferenceConfig",
    "dataCaptureConfig",
    "enableNetworkIsolation",
    "endpointConfigName",
    "executionRoleArn",
    "explainerConfig",
    "kmsKeyId",
    "metricsConfig",
    "productionVariants",
    "shadowProductionVariants",
    "vpcConfig",
  ],
  // @pulumi/aws-native 1.79.0 sagemaker/inferenceComponent.js: none (every input updates in place).
  "aws-native:sagemaker:InferenceComponent": [],
  // terraform-provider-aws internal/service/sns/topic.go
  "aws:sns/topic:Topic": ["fifoTopic", "name", "namePrefix", "region"],
  // terraform-provider-aws internal/service/sns/topic_policy.go
  "aws:sns/topicPolicy:TopicPolicy": ["arn", "region"],
  // terraform-provider-aws internal/service/sqs/queue.go
  "aws:sqs/queue:Queue": ["fifoQueue", "name", "namePrefix", "region"],
  // terraform-provider-aws internal/service/sqs/queue_policy.go
  "aws:sqs/queuePolicy:QueuePolicy": ["queueUrl", "region"],
  // terraform-provider-aws internal/service/ssm/parameter.go
  "aws:ssm/parameter:Parameter": ["dataType", "name", "region"],
  // pulumi/pulumi-awsx awsx/ec2/vpc.ts
  "awsx:ec2:Vpc": ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", "instanceTenancy", "region"],
  // pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts
  "eks:index:Cluster": [
    "name",
    "serviceRole",
    "kubernetesServiceIpAddressRange",
    "ipFamily",
    "encryptionConfigKeyArn",
  ],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:batch/v1:Job": [
    "metadata.name",
    "metadata.namespace",
    "spec.completions",
    "spec.parallelism",
    "spec.selector",
    "spec.template",
  ],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:core/v1:Namespace": ["metadata.name"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go: a custom resource replaces on its name
  // only (both kinds are cluster-scoped).
  "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass": ["metadata.name"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (as above)
  "kubernetes:karpenter.sh/v1:NodePool": ["metadata.name"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (as above): EKS Auto Mode's kinds
  "kubernetes:eks.amazonaws.com/v1:NodeClass": ["metadata.name"],
  "kubernetes:eks.amazonaws.com/v1:IngressClassParams": ["metadata.name"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:core/v1:PersistentVolume": [
    "metadata.name",
    "spec.awsElasticBlockStore",
    "spec.azureDisk",
    "spec.azureFile",
    "spec.cephfs",
    "spec.cinder",
    "spec.csi",
    "spec.fc",
    "spec.flexVolume",
    "spec.flocker",
    "spec.gcePersistentDisk",
    "spec.glusterfs",
    "spec.hostPath",
    "spec.iscsi",
    "spec.local",
    "spec.nfs",
    "spec.photonPersistentDisk",
    "spec.portworxVolume",
    "spec.quobyte",
    "spec.rbd",
    "spec.scaleIO",
    "spec.storageos",
    "spec.vsphereVolume",
  ],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:core/v1:PersistentVolumeClaim": [
    "metadata.name",
    "metadata.namespace",
    "spec.accessModes",
    "spec.selector",
    "spec.storageClassName",
    "spec.volumeName",
  ],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:core/v1:ServiceAccount": ["metadata.name", "metadata.namespace"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/helm_release.go,
  "kubernetes:helm.sh/v3:Release": ["name", "namespace"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/diff.go
  "kubernetes:storage.k8s.io/v1:StorageClass": ["metadata.name", "parameters", "provisioner"],
  // pulumi/pulumi-kubernetes provider/pkg/provider/provider.go
  "pulumi:providers:kubernetes": ["clusterIdentifier", "renderYamlToDirectory"],
};
