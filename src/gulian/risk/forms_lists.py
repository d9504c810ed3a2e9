"""Forms of the risk list pages: a task force's edit of an item, and a manually registered item."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Role, User
from gulian.registry.forms import EnterpriseRefField, region_field, resolve_enterprise
from gulian.registry.models import Chain, Segment
from gulian.registry.scope import LinkScope
from gulian.risk.models import OFFICIAL_ROLES, RiskItem, Severity

EDIT_FIELDS = ["status", "mitigation", "mitigation_note", "department", "responsible", "days_to_impact"]


class ResponsibleField(forms.ModelChoiceField):
    """A user picked by name: officials the acting user can see."""

    def label_from_instance(self, obj: User) -> str:
        """Full name (or username) and department."""
        name = obj.get_full_name() or obj.username
        return f"{name}（{obj.department}）" if obj.department else name


def responsible_field(user) -> ResponsibleField:
    """Officials visible to ``user`` (a select; the list is one region's staff)."""
    people = User.objects.restrict(user, "view").filter(role__in=OFFICIAL_ROLES, is_active=True)
    return ResponsibleField(
        queryset=people.order_by("username").only("pk", "username", "first_name", "last_name", "department"),
        required=False,
        label=_("责任人"),
    )


class RiskItemEditForm(forms.ModelForm):
    """Status, mitigation (替代/储备/攻关/物流), note, department, responsible, days to impact."""

    class Meta:
        model = RiskItem
        fields = EDIT_FIELDS
        widgets = {"mitigation_note": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"] = responsible_field(user)


class RiskItemCreateForm(forms.Form):
    """A risk item a task force registers by hand (source 人工登记)."""

    region = forms.Field()  # replaced in __init__ by the user's regions
    enterprise = EnterpriseRefField(label=_("风险企业"))
    chain = forms.ModelChoiceField(queryset=Chain.objects.none(), required=False, label=_("产业链"))
    segment = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False, label=_("环节"))
    input_category = forms.CharField(max_length=100, required=False, label=_("投入品类别"))
    scope = forms.ChoiceField(choices=LinkScope.choices, label=_("范围"))
    overseas_dependence = forms.BooleanField(required=False, label=_("境外依赖"))
    title = forms.CharField(max_length=200, label=_("风险描述"))
    detail = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("说明"))
    affected_owners = forms.CharField(
        required=False, label=_("受影响链主"), help_text=_("每行一家：统一社会信用代码、企业编号（#123）或完整企业名称"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    days_to_impact = forms.IntegerField(required=False, min_value=0, label=_("距影响天数"))
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM, label=_("严重程度"))
    department = forms.CharField(max_length=64, required=False, label=_("责任部门"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["region"] = region_field(user, required=True, label=_("清单所属区域"))
        if user.region_id:
            self.fields["region"].initial = user.region_id
        self.fields["chain"].queryset = Chain.objects.restrict(user, "view").order_by("code")
        self.fields["segment"].queryset = Segment.objects.restrict(user, "view").select_related("chain")
        self.fields["responsible"] = responsible_field(user)
        if user.role != Role.TASKFORCE and not user.is_admin:
            self.fields["region"].disabled = True

    def _firm(self, text: str):
        firm = resolve_enterprise(self.user, text, any_by_uscc=True)
        if firm is None:
            raise forms.ValidationError(_("未找到该企业 / enterprise not found: %(text)s") % {"text": text})
        return firm

    def clean_enterprise(self):
        """The enterprise named by USCC, #id or exact name."""
        return self._firm(self.cleaned_data["enterprise"])

    def clean_affected_owners(self):
        """One enterprise per line."""
        lines = [s.strip() for s in (self.cleaned_data.get("affected_owners") or "").splitlines() if s.strip()]
        return [self._firm(s) for s in lines]

    def clean(self):
        """The segment must belong to the chosen chain."""
        data = super().clean()
        seg, chain = data.get("segment"), data.get("chain")
        if seg is not None and (chain is None or seg.chain_id != chain.pk):
            self.add_error("segment", _("环节不属于该产业链 / the segment belongs to another chain"))
        return data
