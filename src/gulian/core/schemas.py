"""API schemas for reference data (regions, industries) and the signed-in user.

Naming follows DESIGN.md: ``<X>Out`` for responses, ``<X>Filter`` for list filters.
Foreign keys are given by their key (region code, industry code, ids) with a name next to them.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema


class RegionOut(Schema):
    """A GB/T 2260 region."""

    code: str = Field(description="6 位行政区划代码")
    name: str
    full_name: str
    level: str = Field(description="province|prefecture|county")
    level_label: str = Field(alias="get_level_display")
    parent: str | None = Field(alias="parent_id", description="上级区划代码")
    prefix: str = Field(description="下辖区域的代码前缀，如 33、3301、330106")


class RegionFilter(FilterSchema):
    """Filter regions by level, parent, code prefix or name."""

    level: Annotated[str | None, FilterLookup("level")] = Field(
        None, description="province|prefecture|county"
    )
    parent: Annotated[str | None, FilterLookup("parent_id")] = Field(None, description="上级区划代码")
    prefix: Annotated[str | None, FilterLookup("code__startswith")] = Field(
        None, description="代码前缀，如 3301"
    )
    q: Annotated[str | None, FilterLookup(["name__icontains", "full_name__icontains"])] = Field(
        None, description="名称包含"
    )


class IndustryOut(Schema):
    """A GB/T 4754-2017 industry category."""

    code: str = Field(description="门类字母或 2–4 位数字代码")
    name: str
    level: str = Field(description="section|division|group|class")
    level_label: str = Field(alias="get_level_display")
    parent: str | None = Field(alias="parent_id")


class IndustryFilter(FilterSchema):
    """Filter industries by level, parent or name."""

    level: Annotated[str | None, FilterLookup("level")] = Field(
        None, description="section|division|group|class"
    )
    parent: Annotated[str | None, FilterLookup("parent_id")] = Field(None, description="上级行业代码")
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__startswith"])] = Field(
        None, description="名称包含或代码前缀"
    )


class MeOut(Schema):
    """The signed-in user: role and the scope that restrict() applies to every request."""

    id: int
    username: str
    name: str
    role: str
    role_label: str = Field(alias="get_role_display")
    is_admin: bool
    region: str | None = Field(alias="region_id", description="管辖区域代码；空表示全国")
    region_name: str | None = Field(None, alias="region.full_name")
    scope_prefix: str = Field(description="管辖区域代码前缀；空表示全国")
    enterprise: int | None = Field(alias="enterprise_id", description="企业用户所属企业 id")
    enterprise_name: str | None = Field(None, alias="enterprise.name")
    department: str
    chains: list[int] = Field(description="负责的产业链 id（链长办）")

    @staticmethod
    def resolve_name(obj) -> str:
        """Full name, or the username when none is set."""
        return obj.get_full_name() or obj.username

    @staticmethod
    def resolve_chains(obj) -> list[int]:
        """Ids of the chains a chain-leader office covers."""
        return list(obj.chains.values_list("pk", flat=True))


class ErrorOut(Schema):
    """The body of every error response: a bilingual message and, for 422, the failing fields."""

    detail: str = Field(description="中文 / English")
    errors: dict[str, list[str]] | None = Field(None, description="字段 → 错误信息（422 时给出）")
