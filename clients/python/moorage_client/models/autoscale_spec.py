from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AutoscaleSpec")


@_attrs_define
class AutoscaleSpec:
    """Scale on usage (Kubernetes' HPA rule). While set, the autoscaler owns the replica
    count: `replicas` is only where it starts (when the deployment is made or autoscale
    is first set), clamped to [min_replicas, max_replicas]. The deployment's, like
    `replicas`: changing it makes no revision and replaces no container.

        Attributes:
            min_replicas (int):
            max_replicas (int):
            target_cpu_percent (float): Average CPU per replica to aim at, as a percentage of one core (as the replicas'
                usage shows it)
            target_memory_percent (float | None | Unset):
            scale_up_window_s (float | Unset): Scale up only to the lowest recommendation of this window (0: at once)
                Default: 0.0.
            scale_down_window_s (float | Unset): Scale down only to the highest recommendation of this window, so a dip in
                load does not remove replicas the next spike needs Default: 300.0.
    """

    min_replicas: int
    max_replicas: int
    target_cpu_percent: float
    target_memory_percent: float | None | Unset = UNSET
    scale_up_window_s: float | Unset = 0.0
    scale_down_window_s: float | Unset = 300.0

    def to_dict(self) -> dict[str, Any]:
        min_replicas = self.min_replicas

        max_replicas = self.max_replicas

        target_cpu_percent = self.target_cpu_percent

        target_memory_percent: float | None | Unset
        if isinstance(self.target_memory_percent, Unset):
            target_memory_percent = UNSET
        else:
            target_memory_percent = self.target_memory_percent

        scale_up_window_s = self.scale_up_window_s

        scale_down_window_s = self.scale_down_window_s

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "min_replicas": min_replicas,
                "max_replicas": max_replicas,
                "target_cpu_percent": target_cpu_percent,
            }
        )
        if target_memory_percent is not UNSET:
            field_dict["target_memory_percent"] = target_memory_percent
        if scale_up_window_s is not UNSET:
            field_dict["scale_up_window_s"] = scale_up_window_s
        if scale_down_window_s is not UNSET:
            field_dict["scale_down_window_s"] = scale_down_window_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        min_replicas = d.pop("min_replicas")

        max_replicas = d.pop("max_replicas")

        target_cpu_percent = d.pop("target_cpu_percent")

        def _parse_target_memory_percent(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        target_memory_percent = _parse_target_memory_percent(d.pop("target_memory_percent", UNSET))

        scale_up_window_s = d.pop("scale_up_window_s", UNSET)

        scale_down_window_s = d.pop("scale_down_window_s", UNSET)

        autoscale_spec = cls(
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            target_cpu_percent=target_cpu_percent,
            target_memory_percent=target_memory_percent,
            scale_up_window_s=scale_up_window_s,
            scale_down_window_s=scale_down_window_s,
        )

        return autoscale_spec
