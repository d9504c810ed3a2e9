"""Open311 GeoReport v2 mapped onto appeals: services are categories, service requests are appeals.

Serialisation (JSON and XML) and the caller's authentication live here; views_open311.py has the
endpoints. docs/api.md, "Open311 GeoReport v2", documents the mapping and the choices:
enterprises' problems are confidential, so without a key nothing is shown unless
GULIAN_OPEN311_PUBLIC_READ is on, and then requests are redacted to id, status, service, dates and
the unit handling them.
"""

from __future__ import annotations

import base64
import json
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

from gulian.appeals.models import OPEN_STATUSES, Appeal, Category, Status, Urgency
from gulian.core.api_auth import TokenAuth

INVALID = object()  # a key was given but is not valid: 403, never a silent anonymous read

SERVICE_KEYWORDS = {
    Category.LOGISTICS: "物流,运输,通行证,货车",
    Category.LABOUR: "用工,返岗,招工",
    Category.FINANCE: "融资,贷款,资金",
    Category.SUPPLY: "原材料,零部件,断供",
    Category.EPIDEMIC: "口罩,消毒,防疫物资",
    Category.PERMITS: "审批,证照,许可",
    Category.ENERGY: "用电,用气,用能",
    Category.TECHNOLOGY: "技术,专家",
    Category.MARKET: "订单,市场,出口",
    Category.POLICY: "政策,补贴,兑现",
    Category.OTHER: "其他",
}


def caller(request):
    """The user behind the request: api_key parameter, Bearer or Basic (key as password), or the session.

    Returns None when no credential was offered, ``INVALID`` when one was offered and is not valid.
    """
    key = request.POST.get("api_key") or request.GET.get("api_key")
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not key and scheme.lower() == "bearer":
        key = value.strip()
    elif not key and scheme.lower() == "basic":
        try:
            key = base64.b64decode(value.strip()).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return INVALID
    if key:
        return TokenAuth().authenticate(request, key) or INVALID
    user = getattr(request, "user", None)
    return user if getattr(user, "is_usable", False) else None


def w3c(moment) -> str | None:
    """ISO 8601 with the +08:00 offset (Asia/Shanghai), as GeoReport's examples write datetimes."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def service(category: Category) -> dict:
    """One entry of GET services."""
    return {
        "service_code": category.value,
        "service_name": str(category.label),
        "description": f"企业诉求：{category.label} / enterprise appeal: {category.value}",
        "metadata": True,
        "type": "realtime",
        "keywords": SERVICE_KEYWORDS[category],
        "group": "企业诉求",
    }


def definition(category: Category) -> dict:
    """GET services/{code}: the attributes a POST may carry."""
    urgency = [{"key": u.value, "name": str(u.label)} for u in Urgency]

    def attr(code, datatype, required, description, order, values=None):
        out = {"variable": True, "code": code, "datatype": datatype, "required": required,
               "datatype_description": "", "order": order, "description": description}
        if values is not None:
            out["values"] = values
        return out

    return {
        "service_code": category.value,
        "attributes": [
            attr("uscc", "string", False, "企业统一社会信用代码（联络员、管理员必填）/ the enterprise's USCC", 1),
            attr("urgency", "singlevaluelist", False, "紧急程度 / urgency", 2, urgency),
            attr("title", "string", False, "标题 / title", 3),
            attr("related_uscc", "string", False, "相关企业的信用代码，逗号分隔 / related enterprises' USCCs", 4),
        ],
    }


def request_fields(appeal: Appeal, *, redacted: bool) -> dict:
    """One service request (an appeal); redacted = the public view (no text, enterprise or place)."""
    status = "open" if appeal.status in OPEN_STATUSES else "closed"
    out = {
        "service_request_id": appeal.tracking_number,
        "status": status,
        "service_name": appeal.get_category_display(),
        "service_code": appeal.category,
        "agency_responsible": appeal.handler_label,
        "service_notice": appeal.get_status_display(),
        "requested_datetime": w3c(appeal.created_at),
        "updated_datetime": w3c(appeal.updated_at),
        "expected_datetime": w3c(appeal.resolve_due),
    }
    if redacted:
        return out
    notes = appeal.reply if appeal.status in (Status.RESOLVED, Status.CONFIRMED, Status.CLOSED) else ""
    notes = notes or appeal.unresolvable_reason or appeal.get_status_display()
    out.update({
        "status_notes": notes,
        "description": f"{appeal.title}\n{appeal.text}",
        "address": appeal.address or appeal.enterprise.address,
        "address_id": "",
        "zipcode": "",
        "lat": "",
        "long": "",
        "media_url": "",
        "account_id": appeal.enterprise.uscc,
    })
    return out


def _xml(tag: str, item_tag: str, items: list[dict]) -> bytes:
    root = ET.Element(tag)
    for item in items:
        node = ET.SubElement(root, item_tag)
        _fill(node, item)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(node: ET.Element, item: dict) -> None:
    for key, value in item.items():
        if isinstance(value, list):
            holder = ET.SubElement(node, key)
            child_tag = key[:-1] if key.endswith("s") else "item"
            for v in value:
                if isinstance(v, dict):
                    _fill(ET.SubElement(holder, child_tag), v)
        else:
            child = ET.SubElement(node, key)
            child.text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def render(fmt: str, tag: str, item_tag: str, items: list[dict] | dict, status: int = 200) -> HttpResponse:
    """The response in JSON (a list, or an object for a definition) or XML (tag > item_tag…)."""
    if fmt == "xml":
        if isinstance(items, dict):
            root = ET.Element(tag)
            _fill(root, items)
            body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        else:
            body = _xml(tag, item_tag, items)
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(json.dumps(items, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    """GeoReport's error list: [{"code": status, "description": ...}]."""
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status)
