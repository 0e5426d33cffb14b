from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.http_check import HttpCheck
    from ..models.tcp_check import TcpCheck


T = TypeVar("T", bound="HealthCheck")


@_attrs_define
class HealthCheck:
    """
    Attributes:
        http (HttpCheck | None | Unset):
        tcp (None | TcpCheck | Unset):
        exec_ (list[str] | None | Unset):
        interval_s (float | Unset):  Default: 5.0.
        timeout_s (float | Unset):  Default: 2.0.
        retries (int | Unset):  Default: 3.
        start_period_s (float | Unset):  Default: 0.0.
    """

    http: HttpCheck | None | Unset = UNSET
    tcp: None | TcpCheck | Unset = UNSET
    exec_: list[str] | None | Unset = UNSET
    interval_s: float | Unset = 5.0
    timeout_s: float | Unset = 2.0
    retries: int | Unset = 3
    start_period_s: float | Unset = 0.0

    def to_dict(self) -> dict[str, Any]:
        from ..models.http_check import HttpCheck  # noqa: PLC0415
        from ..models.tcp_check import TcpCheck  # noqa: PLC0415

        http: dict[str, Any] | None | Unset
        if isinstance(self.http, Unset):
            http = UNSET
        elif isinstance(self.http, HttpCheck):
            http = self.http.to_dict()
        else:
            http = self.http

        tcp: dict[str, Any] | None | Unset
        if isinstance(self.tcp, Unset):
            tcp = UNSET
        elif isinstance(self.tcp, TcpCheck):
            tcp = self.tcp.to_dict()
        else:
            tcp = self.tcp

        exec_: list[str] | None | Unset
        if isinstance(self.exec_, Unset):
            exec_ = UNSET
        elif isinstance(self.exec_, list):
            exec_ = self.exec_

        else:
            exec_ = self.exec_

        interval_s = self.interval_s

        timeout_s = self.timeout_s

        retries = self.retries

        start_period_s = self.start_period_s

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if http is not UNSET:
            field_dict["http"] = http
        if tcp is not UNSET:
            field_dict["tcp"] = tcp
        if exec_ is not UNSET:
            field_dict["exec"] = exec_
        if interval_s is not UNSET:
            field_dict["interval_s"] = interval_s
        if timeout_s is not UNSET:
            field_dict["timeout_s"] = timeout_s
        if retries is not UNSET:
            field_dict["retries"] = retries
        if start_period_s is not UNSET:
            field_dict["start_period_s"] = start_period_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.http_check import HttpCheck  # noqa: PLC0415
        from ..models.tcp_check import TcpCheck  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_http(data: object) -> HttpCheck | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                http_type_0 = HttpCheck.from_dict(data)

                return http_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HttpCheck | None | Unset, data)

        http = _parse_http(d.pop("http", UNSET))

        def _parse_tcp(data: object) -> None | TcpCheck | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tcp_type_0 = TcpCheck.from_dict(data)

                return tcp_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TcpCheck | Unset, data)

        tcp = _parse_tcp(d.pop("tcp", UNSET))

        def _parse_exec_(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                exec_type_0 = cast(list[str], data)

                return exec_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        exec_ = _parse_exec_(d.pop("exec", UNSET))

        interval_s = d.pop("interval_s", UNSET)

        timeout_s = d.pop("timeout_s", UNSET)

        retries = d.pop("retries", UNSET)

        start_period_s = d.pop("start_period_s", UNSET)

        health_check = cls(
            http=http,
            tcp=tcp,
            exec_=exec_,
            interval_s=interval_s,
            timeout_s=timeout_s,
            retries=retries,
            start_period_s=start_period_s,
        )

        return health_check
