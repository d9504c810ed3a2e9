"""The only writers of the registry. Views, API handlers, imports and commands call these."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from gulian.core import services
from gulian.core.models import Role
from gulian.registry.models import Chain, Enterprise, Membership, Segment, SupplyLink

# What an enterprise user may change on its own record: contacts and size, never identity or placement.
ENTERPRISE_SELF_EDITABLE = frozenset(
    {"name", "employees", "baseline_output", "contact_name", "contact_phone", "contact_email", "address"}
)


def create_enterprise(actor, **fields: Any) -> Enterprise:
    """Register an enterprise inside the actor's scope."""
    return services.create(actor, Enterprise(**fields))


def update_enterprise(actor, enterprise: Enterprise, **changes: Any) -> Enterprise:
    """Change an enterprise; links touching it get their scope re-derived if its region changed.

    An enterprise user may change only ``ENTERPRISE_SELF_EDITABLE`` fields of its own record.
    """
    if getattr(actor, "role", None) == Role.ENTERPRISE and not actor.is_admin:
        forbidden = sorted(set(changes) - ENTERPRISE_SELF_EDITABLE)
        if forbidden:
            raise services.OutOfScope(
                f"企业用户不能修改这些字段 / an enterprise user cannot change: {', '.join(forbidden)}"
            )
    old_region = enterprise.region_id
    with transaction.atomic():
        services.update(actor, enterprise, changes)
        if enterprise.region_id != old_region:
            rederive_scopes(enterprise)
    return enterprise


def rederive_scopes(enterprise: Enterprise) -> int:
    """Recompute the scope of every link that touches ``enterprise``."""
    links = list(
        SupplyLink.objects.filter(supplier=enterprise).select_related("supplier", "customer")
        | SupplyLink.objects.filter(customer=enterprise).select_related("supplier", "customer")
    )
    for link in links:
        link.derive_scope()
    SupplyLink.objects.bulk_update(links, ["scope"])
    return len(links)


def create_chain(actor, segments: list[str] | None = None, **fields: Any) -> Chain:
    """Create a chain and, optionally, its ordered segments."""
    with transaction.atomic():
        chain = services.create(actor, Chain(**fields))
        for order, name in enumerate(segments or [], start=1):
            services.create(actor, Segment(chain=chain, order=order, name=name))
    return chain


def update_chain(actor, chain: Chain, **changes: Any) -> Chain:
    """Change a chain's fields."""
    return services.update(actor, chain, changes)


def create_segment(actor, chain: Chain, name: str, order: int | None = None, description: str = "") -> Segment:
    """Add a segment (at the end unless ``order`` is given)."""
    if order is None:
        last = chain.segments.order_by("-order").values_list("order", flat=True).first() or 0
        order = last + 1
    return services.create(actor, Segment(chain=chain, name=name, order=order, description=description))


def update_segment(actor, segment: Segment, **changes: Any) -> Segment:
    """Rename or reorder a segment."""
    return services.update(actor, segment, changes)


def save_membership(actor, enterprise: Enterprise, chain: Chain, **fields: Any) -> Membership:
    """Create or update the enterprise's membership of a chain (one per enterprise and chain)."""
    existing = Membership.objects.filter(enterprise=enterprise, chain=chain).first()
    if existing:
        return services.update(actor, existing, fields)
    return services.create(actor, Membership(enterprise=enterprise, chain=chain, **fields))


def delete_membership(actor, membership: Membership) -> None:
    """Remove an enterprise from a chain."""
    services.delete(actor, membership)


def save_link(actor, supplier: Enterprise, customer: Enterprise, input_category: str, **fields: Any) -> SupplyLink:
    """Create or update the link keyed by (supplier, customer, input category); scope is derived."""
    link = SupplyLink.objects.filter(supplier=supplier, customer=customer, input_category=input_category).first()
    if link:
        link.supplier, link.customer = supplier, customer
        fields["scope"] = link.derive_scope()
        return services.update(actor, link, fields)
    link = SupplyLink(supplier=supplier, customer=customer, input_category=input_category, **fields)
    link.derive_scope()
    return services.create(actor, link)


def update_link(actor, link: SupplyLink, **changes: Any) -> SupplyLink:
    """Change a link's attributes or input category (its ends stay; a new pair is a new link)."""
    if {"supplier", "supplier_id", "customer", "customer_id"} & set(changes):
        raise services.OutOfScope("供应关系的两端不能修改 / a link's supplier and customer cannot be changed")
    return services.update(actor, link, changes)


def delete_link(actor, link: SupplyLink) -> None:
    """Delete a supply link."""
    services.delete(actor, link)


__all__ = [
    "create_chain",
    "create_enterprise",
    "create_segment",
    "delete_link",
    "delete_membership",
    "rederive_scopes",
    "save_link",
    "save_membership",
    "update_chain",
    "update_enterprise",
    "update_link",
    "update_segment",
]
