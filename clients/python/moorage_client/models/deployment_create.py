from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.deployment_create_restart_policy import DeploymentCreateRestartPolicy
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_create_env import DeploymentCreateEnv
    from ..models.deployment_create_labels import DeploymentCreateLabels
    from ..models.deployment_create_secrets import DeploymentCreateSecrets
    from ..models.health_check import HealthCheck
    from ..models.placement_spec import PlacementSpec
    from ..models.port_spec import PortSpec
    from ..models.registry_auth import RegistryAuth
    from ..models.resources import Resources
    from ..models.update_strategy import UpdateStrategy
    from ..models.volume_spec import VolumeSpec


T = TypeVar("T", bound="DeploymentCreate")


@_attrs_define
class DeploymentCreate:
    """
    Attributes:
        image (str):
        name (str):
        replicas (int | Unset):  Default: 1.
        command (list[str] | None | Unset):
        entrypoint (list[str] | None | Unset):
        env (DeploymentCreateEnv | Unset):
        secrets (DeploymentCreateSecrets | Unset): Write-only: passed as env, never returned
        ports (list[PortSpec] | Unset):
        health_check (HealthCheck | None | Unset):
        resources (Resources | Unset):
        restart_policy (DeploymentCreateRestartPolicy | Unset):  Default: DeploymentCreateRestartPolicy.ALWAYS.
        labels (DeploymentCreateLabels | Unset):
        placement (PlacementSpec | Unset):
        update_strategy (UpdateStrategy | Unset):
        volumes (list[VolumeSpec] | Unset): Named volumes (a `source` that is a name) are open to any `deploy` token. A
            `source` that is a path binds that host path into the container, as root, and is refused (422 naming
            `volumes.N.source`) unless an admin allows it: `MOORAGE_ALLOWED_BIND_PREFIXES` for every host, or a host's
            `allowed_bind_prefixes` (the deployment is then placed only on hosts that allow it). No path is allowed by
            default, and the rule is the same for every token, admin included. Escalation paths (the Docker socket, /proc,
            /sys, /dev, /etc, /run, /var/lib/docker, ...) are never unlocked by a broader entry.
        registry_auth (None | RegistryAuth | Unset):
        networks (list[str] | Unset): User-defined networks this deployment joins, e.g. `["shop"]`. Members of a network
            reach each other by deployment name and container port (`db:5432`): Moorage makes a Docker bridge network of
            that name on each host where a member runs (and removes it when no container there uses it), and every replica
            joins it with the deployment's name as its DNS alias. **Names resolve only among members on the same host**: a
            bridge network is one host's, so a member on another host is not reachable by name (the deployment's status and
            a `NetworkSpansHosts` event say so when members run on several hosts). Across hosts, call a deployment at an
            address that works across hosts (its `endpoint` on the edge hosts, or its published `ports`), or keep the
            members on one host with `placement`. Names are DNS labels; `bridge`, `host`, `none`, `default`, `ingress` and
            `container` are the engine's. A network of that name that Moorage did not make is never used or removed:
            creating a replica on that host fails (the rollout's message says why). Stored sorted; a change replaces the
            replicas (rolling), and containers Moorage does not own are never attached or detached.
    """

    image: str
    name: str
    replicas: int | Unset = 1
    command: list[str] | None | Unset = UNSET
    entrypoint: list[str] | None | Unset = UNSET
    env: DeploymentCreateEnv | Unset = UNSET
    secrets: DeploymentCreateSecrets | Unset = UNSET
    ports: list[PortSpec] | Unset = UNSET
    health_check: HealthCheck | None | Unset = UNSET
    resources: Resources | Unset = UNSET
    restart_policy: DeploymentCreateRestartPolicy | Unset = DeploymentCreateRestartPolicy.ALWAYS
    labels: DeploymentCreateLabels | Unset = UNSET
    placement: PlacementSpec | Unset = UNSET
    update_strategy: UpdateStrategy | Unset = UNSET
    volumes: list[VolumeSpec] | Unset = UNSET
    registry_auth: None | RegistryAuth | Unset = UNSET
    networks: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.health_check import HealthCheck  # noqa: PLC0415
        from ..models.registry_auth import RegistryAuth  # noqa: PLC0415

        image = self.image

        name = self.name

        replicas = self.replicas

        command: list[str] | None | Unset
        if isinstance(self.command, Unset):
            command = UNSET
        elif isinstance(self.command, list):
            command = self.command

        else:
            command = self.command

        entrypoint: list[str] | None | Unset
        if isinstance(self.entrypoint, Unset):
            entrypoint = UNSET
        elif isinstance(self.entrypoint, list):
            entrypoint = self.entrypoint

        else:
            entrypoint = self.entrypoint

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        secrets: dict[str, Any] | Unset = UNSET
        if not isinstance(self.secrets, Unset):
            secrets = self.secrets.to_dict()

        ports: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.ports, Unset):
            ports = []
            for ports_item_data in self.ports:
                ports_item = ports_item_data.to_dict()
                ports.append(ports_item)

        health_check: dict[str, Any] | None | Unset
        if isinstance(self.health_check, Unset):
            health_check = UNSET
        elif isinstance(self.health_check, HealthCheck):
            health_check = self.health_check.to_dict()
        else:
            health_check = self.health_check

        resources: dict[str, Any] | Unset = UNSET
        if not isinstance(self.resources, Unset):
            resources = self.resources.to_dict()

        restart_policy: str | Unset = UNSET
        if not isinstance(self.restart_policy, Unset):
            restart_policy = self.restart_policy.value

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        placement: dict[str, Any] | Unset = UNSET
        if not isinstance(self.placement, Unset):
            placement = self.placement.to_dict()

        update_strategy: dict[str, Any] | Unset = UNSET
        if not isinstance(self.update_strategy, Unset):
            update_strategy = self.update_strategy.to_dict()

        volumes: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.volumes, Unset):
            volumes = []
            for volumes_item_data in self.volumes:
                volumes_item = volumes_item_data.to_dict()
                volumes.append(volumes_item)

        registry_auth: dict[str, Any] | None | Unset
        if isinstance(self.registry_auth, Unset):
            registry_auth = UNSET
        elif isinstance(self.registry_auth, RegistryAuth):
            registry_auth = self.registry_auth.to_dict()
        else:
            registry_auth = self.registry_auth

        networks: list[str] | Unset = UNSET
        if not isinstance(self.networks, Unset):
            networks = self.networks

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "image": image,
                "name": name,
            }
        )
        if replicas is not UNSET:
            field_dict["replicas"] = replicas
        if command is not UNSET:
            field_dict["command"] = command
        if entrypoint is not UNSET:
            field_dict["entrypoint"] = entrypoint
        if env is not UNSET:
            field_dict["env"] = env
        if secrets is not UNSET:
            field_dict["secrets"] = secrets
        if ports is not UNSET:
            field_dict["ports"] = ports
        if health_check is not UNSET:
            field_dict["health_check"] = health_check
        if resources is not UNSET:
            field_dict["resources"] = resources
        if restart_policy is not UNSET:
            field_dict["restart_policy"] = restart_policy
        if labels is not UNSET:
            field_dict["labels"] = labels
        if placement is not UNSET:
            field_dict["placement"] = placement
        if update_strategy is not UNSET:
            field_dict["update_strategy"] = update_strategy
        if volumes is not UNSET:
            field_dict["volumes"] = volumes
        if registry_auth is not UNSET:
            field_dict["registry_auth"] = registry_auth
        if networks is not UNSET:
            field_dict["networks"] = networks

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deployment_create_env import DeploymentCreateEnv  # noqa: PLC0415
        from ..models.deployment_create_labels import DeploymentCreateLabels  # noqa: PLC0415
        from ..models.deployment_create_secrets import DeploymentCreateSecrets  # noqa: PLC0415
        from ..models.health_check import HealthCheck  # noqa: PLC0415
        from ..models.placement_spec import PlacementSpec  # noqa: PLC0415
        from ..models.port_spec import PortSpec  # noqa: PLC0415
        from ..models.registry_auth import RegistryAuth  # noqa: PLC0415
        from ..models.resources import Resources  # noqa: PLC0415
        from ..models.update_strategy import UpdateStrategy  # noqa: PLC0415
        from ..models.volume_spec import VolumeSpec  # noqa: PLC0415

        d = dict(src_dict)
        image = d.pop("image")

        name = d.pop("name")

        replicas = d.pop("replicas", UNSET)

        def _parse_command(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                command_type_0 = cast(list[str], data)

                return command_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        command = _parse_command(d.pop("command", UNSET))

        def _parse_entrypoint(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                entrypoint_type_0 = cast(list[str], data)

                return entrypoint_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        entrypoint = _parse_entrypoint(d.pop("entrypoint", UNSET))

        _env = d.pop("env", UNSET)
        env: DeploymentCreateEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = DeploymentCreateEnv.from_dict(_env)

        _secrets = d.pop("secrets", UNSET)
        secrets: DeploymentCreateSecrets | Unset
        if isinstance(_secrets, Unset):
            secrets = UNSET
        else:
            secrets = DeploymentCreateSecrets.from_dict(_secrets)

        _ports = d.pop("ports", UNSET)
        ports: list[PortSpec] | Unset = UNSET
        if _ports is not UNSET:
            ports = []
            for ports_item_data in _ports:
                ports_item = PortSpec.from_dict(ports_item_data)

                ports.append(ports_item)

        def _parse_health_check(data: object) -> HealthCheck | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                health_check_type_0 = HealthCheck.from_dict(data)

                return health_check_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HealthCheck | None | Unset, data)

        health_check = _parse_health_check(d.pop("health_check", UNSET))

        _resources = d.pop("resources", UNSET)
        resources: Resources | Unset
        if isinstance(_resources, Unset):
            resources = UNSET
        else:
            resources = Resources.from_dict(_resources)

        _restart_policy = d.pop("restart_policy", UNSET)
        restart_policy: DeploymentCreateRestartPolicy | Unset
        if isinstance(_restart_policy, Unset):
            restart_policy = UNSET
        else:
            restart_policy = DeploymentCreateRestartPolicy(_restart_policy)

        _labels = d.pop("labels", UNSET)
        labels: DeploymentCreateLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = DeploymentCreateLabels.from_dict(_labels)

        _placement = d.pop("placement", UNSET)
        placement: PlacementSpec | Unset
        if isinstance(_placement, Unset):
            placement = UNSET
        else:
            placement = PlacementSpec.from_dict(_placement)

        _update_strategy = d.pop("update_strategy", UNSET)
        update_strategy: UpdateStrategy | Unset
        if isinstance(_update_strategy, Unset):
            update_strategy = UNSET
        else:
            update_strategy = UpdateStrategy.from_dict(_update_strategy)

        _volumes = d.pop("volumes", UNSET)
        volumes: list[VolumeSpec] | Unset = UNSET
        if _volumes is not UNSET:
            volumes = []
            for volumes_item_data in _volumes:
                volumes_item = VolumeSpec.from_dict(volumes_item_data)

                volumes.append(volumes_item)

        def _parse_registry_auth(data: object) -> None | RegistryAuth | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                registry_auth_type_0 = RegistryAuth.from_dict(data)

                return registry_auth_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RegistryAuth | Unset, data)

        registry_auth = _parse_registry_auth(d.pop("registry_auth", UNSET))

        networks = cast(list[str], d.pop("networks", UNSET))

        deployment_create = cls(
            image=image,
            name=name,
            replicas=replicas,
            command=command,
            entrypoint=entrypoint,
            env=env,
            secrets=secrets,
            ports=ports,
            health_check=health_check,
            resources=resources,
            restart_policy=restart_policy,
            labels=labels,
            placement=placement,
            update_strategy=update_strategy,
            volumes=volumes,
            registry_auth=registry_auth,
            networks=networks,
        )

        return deployment_create
