"""Contains all the data models used in inputs/outputs"""

from .apply_stack_json_stack_apply import ApplyStackJsonStackApply
from .apply_stack_json_stack_apply_secrets import ApplyStackJsonStackApplySecrets
from .autoscale_spec import AutoscaleSpec
from .autoscaler_status import AutoscalerStatus
from .condition import Condition
from .delivery_read import DeliveryRead
from .delivery_read_outcome import DeliveryReadOutcome
from .dependency_check import DependencyCheck
from .deployment_create import DeploymentCreate
from .deployment_create_env import DeploymentCreateEnv
from .deployment_create_labels import DeploymentCreateLabels
from .deployment_create_restart_policy import DeploymentCreateRestartPolicy
from .deployment_create_secrets import DeploymentCreateSecrets
from .deployment_read import DeploymentRead
from .deployment_spec import DeploymentSpec
from .deployment_spec_env import DeploymentSpecEnv
from .deployment_spec_labels import DeploymentSpecLabels
from .deployment_spec_restart_policy import DeploymentSpecRestartPolicy
from .deployment_spec_secrets import DeploymentSpecSecrets
from .deployment_status import DeploymentStatus
from .dry_run_result import DryRunResult
from .endpoint_read import EndpointRead
from .endpoint_spec import EndpointSpec
from .event_read import EventRead
from .event_read_type import EventReadType
from .field_change import FieldChange
from .health import Health
from .health_check import HealthCheck
from .hook_accepted import HookAccepted
from .hook_ignored import HookIgnored
from .host_create import HostCreate
from .host_create_labels import HostCreateLabels
from .host_read import HostRead
from .host_read_labels import HostReadLabels
from .host_read_state import HostReadState
from .host_ssh import HostSSH
from .host_tls import HostTLS
from .host_update import HostUpdate
from .host_update_labels_type_0 import HostUpdateLabelsType0
from .http_check import HttpCheck
from .identity import Identity
from .identity_allows_item import IdentityAllowsItem
from .identity_scopes_item import IdentityScopesItem
from .log_line import LogLine
from .page_delivery_read import PageDeliveryRead
from .page_deployment_read import PageDeploymentRead
from .page_event_read import PageEventRead
from .page_host_read import PageHostRead
from .page_registry_credential_read import PageRegistryCredentialRead
from .page_replica_read import PageReplicaRead
from .page_revision_read import PageRevisionRead
from .page_rollout_read import PageRolloutRead
from .page_stack_read import PageStackRead
from .page_stack_revision_read import PageStackRevisionRead
from .page_token_read import PageTokenRead
from .page_webhook_read import PageWebhookRead
from .patch_deployment_patch import PatchDeploymentPatch
from .phase import Phase
from .placement_spec import PlacementSpec
from .planned_action import PlannedAction
from .planned_action_action import PlannedActionAction
from .port_spec import PortSpec
from .port_spec_protocol import PortSpecProtocol
from .problem import Problem
from .problem_errors_type_0_item import ProblemErrorsType0Item
from .process_status import ProcessStatus
from .process_status_kind import ProcessStatusKind
from .readiness import Readiness
from .readiness_checks import ReadinessChecks
from .readiness_problem import ReadinessProblem
from .readiness_problem_checks import ReadinessProblemChecks
from .readiness_problem_errors_type_0_item import ReadinessProblemErrorsType0Item
from .registry_auth import RegistryAuth
from .registry_auth_read import RegistryAuthRead
from .registry_credential_read import RegistryCredentialRead
from .registry_credential_write import RegistryCredentialWrite
from .replica_health import ReplicaHealth
from .replica_port import ReplicaPort
from .replica_read import ReplicaRead
from .replica_state import ReplicaState
from .replica_usage import ReplicaUsage
from .resources import Resources
from .revision_read import RevisionRead
from .revision_spec_read import RevisionSpecRead
from .revision_spec_read_env import RevisionSpecReadEnv
from .revision_spec_read_labels import RevisionSpecReadLabels
from .rollback_request import RollbackRequest
from .rollout_kind import RolloutKind
from .rollout_progress import RolloutProgress
from .rollout_read import RolloutRead
from .rollout_state import RolloutState
from .spec_read import SpecRead
from .spec_read_env import SpecReadEnv
from .spec_read_labels import SpecReadLabels
from .stack_dry_run import StackDryRun
from .stack_read import StackRead
from .stack_revision_read import StackRevisionRead
from .stack_rollback_request import StackRollbackRequest
from .stack_rollout_read import StackRolloutRead
from .stack_rollout_read_kind import StackRolloutReadKind
from .stack_rollout_read_services import StackRolloutReadServices
from .stack_service_plan import StackServicePlan
from .stack_service_plan_change import StackServicePlanChange
from .stack_service_read import StackServiceRead
from .stack_service_read_depends_on import StackServiceReadDependsOn
from .stack_service_read_failure_action import StackServiceReadFailureAction
from .stack_status import StackStatus
from .tcp_check import TcpCheck
from .token_create import TokenCreate
from .token_create_scopes_item import TokenCreateScopesItem
from .token_created import TokenCreated
from .token_created_scopes_item import TokenCreatedScopesItem
from .token_read import TokenRead
from .token_read_scopes_item import TokenReadScopesItem
from .trigger_webhook_body import TriggerWebhookBody
from .update_strategy import UpdateStrategy
from .upstream_read import UpstreamRead
from .upstream_read_state import UpstreamReadState
from .usage_point import UsagePoint
from .usage_series import UsageSeries
from .usage_totals import UsageTotals
from .volume_read import VolumeRead
from .volume_spec import VolumeSpec
from .webhook_create import WebhookCreate
from .webhook_create_kind import WebhookCreateKind
from .webhook_created import WebhookCreated
from .webhook_created_kind import WebhookCreatedKind
from .webhook_read import WebhookRead
from .webhook_read_kind import WebhookReadKind
from .workers_health import WorkersHealth
from .workers_problem import WorkersProblem
from .workers_problem_errors_type_0_item import WorkersProblemErrorsType0Item

__all__ = (
    "ApplyStackJsonStackApply",
    "ApplyStackJsonStackApplySecrets",
    "AutoscalerStatus",
    "AutoscaleSpec",
    "Condition",
    "DeliveryRead",
    "DeliveryReadOutcome",
    "DependencyCheck",
    "DeploymentCreate",
    "DeploymentCreateEnv",
    "DeploymentCreateLabels",
    "DeploymentCreateRestartPolicy",
    "DeploymentCreateSecrets",
    "DeploymentRead",
    "DeploymentSpec",
    "DeploymentSpecEnv",
    "DeploymentSpecLabels",
    "DeploymentSpecRestartPolicy",
    "DeploymentSpecSecrets",
    "DeploymentStatus",
    "DryRunResult",
    "EndpointRead",
    "EndpointSpec",
    "EventRead",
    "EventReadType",
    "FieldChange",
    "Health",
    "HealthCheck",
    "HookAccepted",
    "HookIgnored",
    "HostCreate",
    "HostCreateLabels",
    "HostRead",
    "HostReadLabels",
    "HostReadState",
    "HostSSH",
    "HostTLS",
    "HostUpdate",
    "HostUpdateLabelsType0",
    "HttpCheck",
    "Identity",
    "IdentityAllowsItem",
    "IdentityScopesItem",
    "LogLine",
    "PageDeliveryRead",
    "PageDeploymentRead",
    "PageEventRead",
    "PageHostRead",
    "PageRegistryCredentialRead",
    "PageReplicaRead",
    "PageRevisionRead",
    "PageRolloutRead",
    "PageStackRead",
    "PageStackRevisionRead",
    "PageTokenRead",
    "PageWebhookRead",
    "PatchDeploymentPatch",
    "Phase",
    "PlacementSpec",
    "PlannedAction",
    "PlannedActionAction",
    "PortSpec",
    "PortSpecProtocol",
    "Problem",
    "ProblemErrorsType0Item",
    "ProcessStatus",
    "ProcessStatusKind",
    "Readiness",
    "ReadinessChecks",
    "ReadinessProblem",
    "ReadinessProblemChecks",
    "ReadinessProblemErrorsType0Item",
    "RegistryAuth",
    "RegistryAuthRead",
    "RegistryCredentialRead",
    "RegistryCredentialWrite",
    "ReplicaHealth",
    "ReplicaPort",
    "ReplicaRead",
    "ReplicaState",
    "ReplicaUsage",
    "Resources",
    "RevisionRead",
    "RevisionSpecRead",
    "RevisionSpecReadEnv",
    "RevisionSpecReadLabels",
    "RollbackRequest",
    "RolloutKind",
    "RolloutProgress",
    "RolloutRead",
    "RolloutState",
    "SpecRead",
    "SpecReadEnv",
    "SpecReadLabels",
    "StackDryRun",
    "StackRead",
    "StackRevisionRead",
    "StackRollbackRequest",
    "StackRolloutRead",
    "StackRolloutReadKind",
    "StackRolloutReadServices",
    "StackServicePlan",
    "StackServicePlanChange",
    "StackServiceRead",
    "StackServiceReadDependsOn",
    "StackServiceReadFailureAction",
    "StackStatus",
    "TcpCheck",
    "TokenCreate",
    "TokenCreated",
    "TokenCreatedScopesItem",
    "TokenCreateScopesItem",
    "TokenRead",
    "TokenReadScopesItem",
    "TriggerWebhookBody",
    "UpdateStrategy",
    "UpstreamRead",
    "UpstreamReadState",
    "UsagePoint",
    "UsageSeries",
    "UsageTotals",
    "VolumeRead",
    "VolumeSpec",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookCreatedKind",
    "WebhookCreateKind",
    "WebhookRead",
    "WebhookReadKind",
    "WorkersHealth",
    "WorkersProblem",
    "WorkersProblemErrorsType0Item",
)
