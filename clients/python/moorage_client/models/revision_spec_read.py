from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.health_check import HealthCheck
    from ..models.placement_spec import PlacementSpec
    from ..models.port_spec import PortSpec
    from ..models.registry_auth_read import RegistryAuthRead
    from ..models.resources import Resources
    from ..models.revision_spec_read_env import RevisionSpecReadEnv
    from ..models.revision_spec_read_labels import RevisionSpecReadLabels
    from ..models.update_strategy import UpdateStrategy
    from ..models.volume_read import VolumeRead


T = TypeVar("T", bound="RevisionSpecRead")


@_attrs_define
class RevisionSpecRead:
    """A revision's spec as the API returns it: secret values are replaced by their
    names. No `replicas`: that is the deployment's (scaling makes no revision).

        Attributes:
            image (str):
            command (list[str] | None | Unset):
            entrypoint (list[str] | None | Unset):
            env (RevisionSpecReadEnv | Unset):
            secret_keys (list[str] | Unset): Names of the secrets; values are write-only
            ports (list[PortSpec] | Unset):
            health_check (HealthCheck | None | Unset):
            resources (Resources | Unset):
            restart_policy (str | Unset):  Default: 'always'.
            labels (RevisionSpecReadLabels | Unset):
            placement (PlacementSpec | Unset):
            update_strategy (UpdateStrategy | Unset):
            volumes (list[VolumeRead] | Unset):
            registry_auth (None | RegistryAuthRead | Unset): The username only; the password is write-only
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
    command: list[str] | None | Unset = UNSET
    entrypoint: list[str] | None | Unset = UNSET
    env: RevisionSpecReadEnv | Unset = UNSET
    secret_keys: list[str] | Unset = UNSET
    ports: list[PortSpec] | Unset = UNSET
    health_check: HealthCheck | None | Unset = UNSET
    resources: Resources | Unset = UNSET
    restart_policy: str | Unset = "always"
    labels: RevisionSpecReadLabels | Unset = UNSET
    placement: PlacementSpec | Unset = UNSET
    update_strategy: UpdateStrategy | Unset = UNSET
    volumes: list[VolumeRead] | Unset = UNSET
    registry_auth: None | RegistryAuthRead | Unset = UNSET
    networks: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.health_check import HealthCheck  # noqa: PLC0415
        from ..models.registry_auth_read import RegistryAuthRead  # noqa: PLC0415

        image = self.image

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

        secret_keys: list[str] | Unset = UNSET
        if not isinstance(self.secret_keys, Unset):
            secret_keys = self.secret_keys

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

        restart_policy = self.restart_policy

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
        elif isinstance(self.registry_auth, RegistryAuthRead):
            registry_auth = self.registry_auth.to_dict()
        else:
            registry_auth = self.registry_auth

        networks: list[str] | Unset = UNSET
        if not isinstance(self.networks, Unset):
            networks = self.networks

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image": image,
            }
        )
        if command is not UNSET:
            field_dict["command"] = command
        if entrypoint is not UNSET:
            field_dict["entrypoint"] = entrypoint
        if env is not UNSET:
            field_dict["env"] = env
        if secret_keys is not UNSET:
            field_dict["secret_keys"] = secret_keys
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
        from ..models.health_check import HealthCheck  # noqa: PLC0415
        from ..models.placement_spec import PlacementSpec  # noqa: PLC0415
        from ..models.port_spec import PortSpec  # noqa: PLC0415
        from ..models.registry_auth_read import RegistryAuthRead  # noqa: PLC0415
        from ..models.resources import Resources  # noqa: PLC0415
        from ..models.revision_spec_read_env import RevisionSpecReadEnv  # noqa: PLC0415
        from ..models.revision_spec_read_labels import RevisionSpecReadLabels  # noqa: PLC0415
        from ..models.update_strategy import UpdateStrategy  # noqa: PLC0415
        from ..models.volume_read import VolumeRead  # noqa: PLC0415

        d = dict(src_dict)
        image = d.pop("image")

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
        env: RevisionSpecReadEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = RevisionSpecReadEnv.from_dict(_env)

        secret_keys = cast(list[str], d.pop("secret_keys", UNSET))

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

        restart_policy = d.pop("restart_policy", UNSET)

        _labels = d.pop("labels", UNSET)
        labels: RevisionSpecReadLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = RevisionSpecReadLabels.from_dict(_labels)

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
        volumes: list[VolumeRead] | Unset = UNSET
        if _volumes is not UNSET:
            volumes = []
            for volumes_item_data in _volumes:
                volumes_item = VolumeRead.from_dict(volumes_item_data)

                volumes.append(volumes_item)

        def _parse_registry_auth(data: object) -> None | RegistryAuthRead | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                registry_auth_type_0 = RegistryAuthRead.from_dict(data)

                return registry_auth_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RegistryAuthRead | Unset, data)

        registry_auth = _parse_registry_auth(d.pop("registry_auth", UNSET))

        networks = cast(list[str], d.pop("networks", UNSET))

        revision_spec_read = cls(
            image=image,
            command=command,
            entrypoint=entrypoint,
            env=env,
            secret_keys=secret_keys,
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

        revision_spec_read.additional_properties = d
        return revision_spec_read

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
