"""Forms for the registry pages. Choices are limited to the user's scope; writes go through services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Industry, Region, Role, User
from gulian.core.uscc import USCCError, compact, is_valid
from gulian.core.uscc import validate as validate_uscc
from gulian.registry.models import Chain, Enterprise, MemberRole, Segment

# Above this many regions in scope a <select> gets unwieldy (a nationwide user): type the code instead.
REGION_SELECT_LIMIT = 600


class RegionField(forms.ModelChoiceField):
    """A region picked by its code, labelled with code and full name."""

    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.code} {obj.full_name or obj.name}"


class IndustryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Industry) -> str:
        return f"{obj.code} {obj.name}"


REGION_LABEL = _("所在区域")


def region_field(user, *, required: bool, label=REGION_LABEL) -> RegionField:
    """Regions in the user's scope: a select for a province or smaller, a code box for the whole country."""
    regions = Region.objects.within(user.scope_prefix).only("code", "name", "full_name")
    field = RegionField(queryset=regions, to_field_name="code", required=required, label=label)
    if not user.scope_prefix and regions.count() > REGION_SELECT_LIMIT:
        field.widget = forms.TextInput(attrs={"placeholder": _("6位行政区划代码"), "maxlength": 6})
    return field


def resolve_enterprise(user, text: str, *, any_by_uscc: bool = False) -> Enterprise | None:
    """The enterprise named by a USCC, an id (#123 or 123) or an exact name, among those the user sees.

    With ``any_by_uscc`` an exact USCC also finds a firm outside the user's scope: a supply link may
    cross regions, and knowing a firm's public credit code reveals nothing of its record.
    """
    text = (text or "").strip()
    if not text:
        return None
    visible = Enterprise.objects.restrict(user, "view")
    key = compact(text)
    if is_valid(key):
        found = visible.filter(uscc=key).first()
        if found is None and any_by_uscc:
            found = Enterprise.objects.filter(uscc=key).first()
        return found
    number = text.lstrip("#")
    if number.isdigit() and len(number) < 18:
        return visible.filter(pk=int(number)).first()
    matches = list(visible.filter(name=text)[:2])
    return matches[0] if len(matches) == 1 else None


class EnterpriseRefField(forms.CharField):
    """Free text resolved to an enterprise by :func:`resolve_enterprise` in the form's clean."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", _("统一社会信用代码、企业编号（#123）或完整企业名称"))
        super().__init__(**kwargs)


ENTERPRISE_FIELDS = [
    "uscc",
    "name",
    "country",
    "region",
    "industry",
    "scale",
    "above_designated_size",
    "employees",
    "baseline_output",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "liaison",
]
# What an enterprise user may change about its own record; identity and assignment stay with officials.
ENTERPRISE_SELF_FIELDS = [
    "industry",
    "scale",
    "employees",
    "baseline_output",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
]


class EnterpriseForm(forms.ModelForm):
    # declared here so full-width or spaced input is compacted before the model's validator sees it
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=40, required=False)

    class Meta:
        model = Enterprise
        fields = ENTERPRISE_FIELDS
        widgets = {"address": forms.TextInput(attrs={"size": 50})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.role == Role.ENTERPRISE and not user.is_admin:
            for name in set(self.fields) - set(ENTERPRISE_SELF_FIELDS):
                del self.fields[name]
        if "region" in self.fields:
            self.fields["region"] = region_field(user, required=False)
            if self.instance.pk and self.instance.region_id:
                self.initial["region"] = self.instance.region_id
        if "industry" in self.fields:
            self.fields["industry"] = IndustryField(
                queryset=Industry.objects.all(), required=False, label=_("所属行业")
            )
        if "liaison" in self.fields:
            liaisons = User.objects.restrict(user, "view").filter(role=Role.LIAISON, is_active=True)
            self.fields["liaison"].queryset = liaisons.order_by("username")

    def clean_uscc(self):
        value = self.cleaned_data.get("uscc")
        if not value:
            return None
        try:
            return validate_uscc(value)
        except USCCError as e:
            raise forms.ValidationError(e.localized(), code=f"uscc_{e.code}")

    def clean_country(self):
        return (self.cleaned_data.get("country") or "CN").strip().upper()


class ChainForm(forms.ModelForm):
    class Meta:
        model = Chain
        fields = ["code", "name", "region", "leader", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"] = region_field(user, required=True, label=_("所属区域"))
        if self.instance.pk:
            self.initial["region"] = self.instance.region_id


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "order", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False
        self.fields["order"].help_text = _("留空则排在最后")


class MembershipForm(forms.Form):
    """Add an enterprise to a chain (or change its segment and role)."""

    enterprise = EnterpriseRefField(label=_("企业"))
    segment = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False, label=_("环节"))
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.SUPPLIER, label=_("角色"))
    note = forms.CharField(max_length=200, required=False, label=_("备注"))

    def __init__(self, *args, user: User, chain: Chain, segments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["segment"].queryset = Segment.objects.filter(chain=chain)
        if segments is not None:  # reuse the page's list so the choices cost no query
            self.fields["segment"].choices = [("", "---------"), *((s.pk, s.name) for s in segments)]

    def clean_enterprise(self):
        firm = resolve_enterprise(self.user, self.cleaned_data["enterprise"])
        if firm is None:
            raise forms.ValidationError(
                _("未找到该企业（或不在管辖范围内） / enterprise not found in your scope")
            )
        return firm


class LinkForm(forms.Form):
    """A supply link; supplier, customer and input category are its key and fixed once saved."""

    supplier = EnterpriseRefField(label=_("供应商"))
    customer = EnterpriseRefField(label=_("客户"))
    input_category = forms.CharField(max_length=100, label=_("投入品类别"))
    annual_value = forms.DecimalField(
        max_digits=18, decimal_places=2, required=False, min_value=0, label=_("年采购额（元）")
    )
    share_percent = forms.DecimalField(
        max_digits=7,
        decimal_places=2,
        required=False,
        min_value=0,
        max_value=100,
        label=_("占该类投入比重（%）"),
    )
    lead_time_days = forms.IntegerField(required=False, min_value=0, label=_("交货周期（天）"))
    inventory_days = forms.DecimalField(
        max_digits=7, decimal_places=1, required=False, min_value=0, label=_("客户库存可用天数")
    )
    alternatives_known = forms.BooleanField(required=False, label=_("有可替代供应商"))

    KEY_FIELDS = ("supplier", "customer", "input_category")

    def __init__(self, *args, user: User, link=None, **kwargs):
        if link is not None:
            kwargs.setdefault("initial", link_initial(link))
        super().__init__(*args, **kwargs)
        self.user, self.link = user, link
        if link is not None:
            for name in self.KEY_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = ""

    def _resolve(self, name: str):
        if self.link is not None:
            return getattr(self.link, name)
        firm = resolve_enterprise(self.user, self.cleaned_data.get(name), any_by_uscc=True)
        if firm is None:
            raise forms.ValidationError(_("未找到该企业 / enterprise not found"))
        return firm

    def clean_supplier(self):
        return self._resolve("supplier")

    def clean_customer(self):
        return self._resolve("customer")

    def clean_input_category(self):
        return (
            self.link.input_category if self.link is not None else self.cleaned_data["input_category"].strip()
        )

    def clean(self):
        data = super().clean()
        s, c = data.get("supplier"), data.get("customer")
        if s is not None and c is not None and s.pk == c.pk:
            raise forms.ValidationError(_("供应商与客户不能相同 / supplier and customer must differ"))
        return data

    def link_fields(self) -> dict:
        """The non-key fields for ``save_link`` (share as a 0..1 fraction)."""
        d = self.cleaned_data
        share = d.get("share_percent")
        return {
            "annual_value": d.get("annual_value"),
            "share": (share / Decimal(100)).quantize(Decimal("0.0001")) if share is not None else None,
            "lead_time_days": d.get("lead_time_days"),
            "inventory_days": d.get("inventory_days"),
            "alternatives_known": bool(d.get("alternatives_known")),
        }


def link_initial(link) -> dict:
    """Initial values of :class:`LinkForm` for a saved link."""
    return {
        "supplier": f"{link.supplier.uscc or '#' + str(link.supplier_id)}",
        "customer": f"{link.customer.uscc or '#' + str(link.customer_id)}",
        "input_category": link.input_category,
        "annual_value": link.annual_value,
        "share_percent": link.share * 100 if link.share is not None else None,
        "lead_time_days": link.lead_time_days,
        "inventory_days": link.inventory_days,
        "alternatives_known": link.alternatives_known,
    }


__all__ = [
    "ChainForm",
    "EnterpriseForm",
    "LinkForm",
    "MembershipForm",
    "SegmentForm",
    "resolve_enterprise",
]
