"""Forms of the appeal pages: filing an appeal, and one small form per step on the detail page.

The forms check what a page can check before the service is called (required text, lengths, the
attachments' type and size, which enterprises and regions the lines name); the services in
``gulian.appeals.services`` remain the gate, and their ValidationError / OutOfScope end up on the
form too (``apply_form_errors``).
"""

from __future__ import annotations

import re
import uuid
from functools import reduce
from operator import or_

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gulian.appeals import routing, services
from gulian.appeals.models import Appeal, Category, Department, Urgency
from gulian.core.models import Region, Role
from gulian.core.uscc import USCCError, compact
from gulian.core.uscc import validate as validate_uscc
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink

MAX_RELATED = 20  # related enterprises or regions per appeal
USCC_LIKE = re.compile(r"^[0-9A-Z]{18}$")
REGION_SPLIT = re.compile(r"[\s,，、;；]+")


def filing_enterprises(user):
    """The enterprises ``user`` may file appeals for: an enterprise user's own, a liaison's, all for admins."""
    if not getattr(user, "is_usable", False):
        return Enterprise.objects.none()
    if user.is_admin:
        return Enterprise.objects.filter(region__isnull=False)
    if user.role == Role.ENTERPRISE:
        return Enterprise.objects.filter(pk=user.enterprise_id) if user.enterprise_id else Enterprise.objects.none()
    if user.role == Role.LIAISON:
        return Enterprise.objects.filter(liaison=user, region__isnull=False)
    return Enterprise.objects.none()


def may_file(user) -> bool:
    """Enterprise users with an enterprise, liaisons and administrators open the filing form."""
    if not getattr(user, "is_usable", False):
        return False
    if user.is_admin:
        return True
    if user.role == Role.ENTERPRISE:
        return bool(user.enterprise_id)
    return user.role == Role.LIAISON


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by services.check_attachment."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _check_files(files) -> list[str]:
    errors = []
    for f in files:
        try:
            services.check_attachment(f)
        except ValidationError as e:
            for messages in (e.message_dict.values() if hasattr(e, "error_dict") else [e.messages]):
                errors.extend(messages)
    return errors


def _text_field(label, *, required=True, max_length=None, rows=4, **kw) -> forms.CharField:
    limit = max_length or settings.APPEALS_MAX_TEXT
    return forms.CharField(
        label=label, required=required, max_length=limit, widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": gettext_lazy("此项不能为空 / this field is required"),
            "max_length": gettext_lazy("不能超过 %(limit_value)d 字（当前 %(show_value)d 字） / at most "
                                       "%(limit_value)d characters (it has %(show_value)d)"),
        }, **kw,
    )


class AppealForm(forms.Form):
    """诉求登记: the enterprise files a problem (see docs/appeals.md, "Pages")."""

    enterprise = forms.CharField(label=gettext_lazy("企业"))
    title = forms.CharField(
        label=gettext_lazy("标题"), required=False, max_length=100,
        help_text=gettext_lazy("可不填，默认取诉求内容的前 30 字"),
        error_messages={"max_length": gettext_lazy("标题不能超过 %(limit_value)d 字 / the title has more than "
                                                 "%(limit_value)d characters")},
    )
    text = forms.CharField(label=gettext_lazy("诉求内容"))  # replaced in __init__ (the limit is a setting)
    category = forms.ChoiceField(
        label=gettext_lazy("诉求类别"), required=False,
        help_text=gettext_lazy("不选则采用系统建议的类别，办理部门会确认"),
    )
    secondary_categories = forms.MultipleChoiceField(
        label=gettext_lazy("还涉及"), required=False, choices=Category.choices, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("涉及其他部门的事项；涉及多个部门的诉求由专班统筹"),
    )
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    related_enterprises = forms.CharField(
        label=gettext_lazy("相关企业"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一个：统一社会信用代码（可为外省企业），或本人可见企业的完整名称"),
    )
    related_regions = forms.CharField(
        label=gettext_lazy("涉及地区"), required=False, max_length=500,
        help_text=gettext_lazy("行政区划代码或名称，用逗号或空格分隔，如 330203 或 宁波市"),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("附件"), required=False,
        help_text=gettext_lazy("可多选；PDF、图片、Word、Excel、文本"),
    )
    risk_item = forms.IntegerField(required=False, widget=forms.HiddenInput)
    heldback_owner = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["text"] = _text_field(
            gettext_lazy("诉求内容"), rows=7,
            help_text=gettext_lazy("写清遇到的问题、影响和希望得到的帮助（不超过 %(n)d 字）") % {"n": settings.APPEALS_MAX_TEXT},
        )
        suggest_url = reverse("appeals:suggest")
        self.fields["text"].widget.attrs.update({
            "data-suggest-url": suggest_url, "hx-post": suggest_url, "hx-target": "#suggestions",
            "hx-trigger": "input changed delay:600ms, load", "hx-include": "#id_title, #id_enterprise",
        })
        self.fields["category"].choices = [("", _("（采用系统建议）")), *Category.choices]
        self.fields["attachments"].help_text = _("可多选，每个不超过 %(mb)s MB；PDF、图片、Word、Excel、文本") % {
            "mb": f"{settings.APPEALS_MAX_ATTACHMENT_MB:g}"}
        self.choosable = list(filing_enterprises(user).only("pk", "name", "uscc")[:500]) if not user.is_admin else []
        field = self.fields["enterprise"]
        if user.role == Role.ENTERPRISE and not user.is_admin:
            # an enterprise user's own is fixed: shown as text, sent as a hidden id
            field.widget = forms.HiddenInput()
            if not self.is_bound and self.choosable:
                field.initial = str(self.choosable[0].pk)
        elif user.is_admin:
            field.help_text = _("统一社会信用代码或企业编号（#123）")
        else:
            field.widget = forms.Select(choices=[("", "——"), *((str(e.pk), e.name) for e in self.choosable)])
        if not self.is_bound and not self.initial.get("client_token"):
            self.initial["client_token"] = uuid.uuid4().hex
        self.risk_item_obj = None
        self.heldback_owner_obj = None

    # --- field cleaning ---------------------------------------------------------------------------

    def clean_enterprise(self) -> Enterprise:
        """The enterprise by id (or, for administrators, by USCC); whether the user may file for it is the
        service's decision (an enterprise user sending another firm's id gets its OutOfScope message)."""
        raw = (self.cleaned_data.get("enterprise") or "").strip().lstrip("#")
        found = None
        if raw.isdigit() and len(raw) < 18:
            found = Enterprise.objects.filter(pk=int(raw)).first()
        elif self.user.is_admin and raw:
            found = Enterprise.objects.filter(uscc=compact(raw)).first()
        if found is None:
            raise ValidationError(_("未找到该企业 / no such enterprise"))
        return found

    def clean_text(self) -> str:
        return self.cleaned_data["text"].strip()

    def clean_related_enterprises(self) -> list[Enterprise]:
        """One line each: an exact USCC (any registered firm, also outside the user's scope) or the exact
        name or #id of a firm the user sees. Every bad line is reported with its number."""
        lines = [(n, ln.strip()) for n, ln in enumerate(self.cleaned_data.get("related_enterprises", "").splitlines(), 1)]
        lines = [(n, ln) for n, ln in lines if ln]
        if len(lines) > MAX_RELATED:
            raise ValidationError(_("相关企业最多 %(n)d 家 / at most %(n)d related enterprises") % {"n": MAX_RELATED})
        visible = Enterprise.objects.restrict(self.user, "view")
        found: list[Enterprise] = []
        errors = []
        for n, line in lines:
            key = compact(line)
            if USCC_LIKE.match(key):
                try:
                    key = validate_uscc(key)
                except USCCError as e:
                    errors.append(_("第 %(n)d 行「%(v)s」：%(why)s") % {"n": n, "v": line, "why": e.localized()})
                    continue
                firm = Enterprise.objects.filter(uscc=key).first()
                if firm is None:
                    errors.append(_("第 %(n)d 行「%(v)s」：未登记的统一社会信用代码 / line %(n)d: no registered "
                                    "enterprise has this credit code") % {"n": n, "v": line})
                    continue
            else:
                number = line.lstrip("#")
                if number.isdigit():
                    firm = visible.filter(pk=int(number)).first()
                else:
                    matches = list(visible.filter(name=line)[:2])
                    firm = matches[0] if len(matches) == 1 else None
                if firm is None:
                    errors.append(_("第 %(n)d 行「%(v)s」：未找到该企业，外地企业请填统一社会信用代码 / line %(n)d: "
                                    "no such enterprise; give the credit code of a firm outside your scope")
                                  % {"n": n, "v": line})
                    continue
            if firm not in found:
                found.append(firm)
        if errors:
            raise ValidationError(errors)
        return found

    def clean_related_regions(self) -> list[Region]:
        """Region codes (6 digits) or unique names (杭州市, 宁波市鄞州区 …)."""
        tokens = [t for t in REGION_SPLIT.split(self.cleaned_data.get("related_regions", "")) if t]
        if len(tokens) > MAX_RELATED:
            raise ValidationError(_("涉及地区最多 %(n)d 个 / at most %(n)d regions") % {"n": MAX_RELATED})
        found: list[Region] = []
        errors = []
        for token in tokens:
            if token.isdigit():
                region = Region.objects.filter(code=token).first()
            else:
                matches = list(Region.objects.filter(full_name=token)[:2]) or list(Region.objects.filter(name=token)[:2])
                if len(matches) > 1:
                    errors.append(_("「%(v)s」有重名，请填行政区划代码 / %(v)s is ambiguous: give the region code")
                                  % {"v": token})
                    continue
                region = matches[0] if matches else None
            if region is None:
                errors.append(_("「%(v)s」不是有效的行政区划 / %(v)s is not a known region") % {"v": token})
                continue
            if region not in found:
                found.append(region)
        if errors:
            raise ValidationError(errors)
        return found

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        errors = _check_files(files)
        if errors:
            raise ValidationError(errors)
        return files

    def clean(self):
        data = super().clean()
        data["secondary_categories"] = [c for c in data.get("secondary_categories") or [] if c != data.get("category")]
        enterprise = data.get("enterprise")
        self._clean_links(data, enterprise)
        return data

    def _clean_links(self, data, enterprise) -> None:
        """Links prefilled from a risk item's or the held-back list's button: only ones the user may see."""
        from gulian.risk.models import RiskItem

        item_id = data.get("risk_item")
        if item_id:
            self.risk_item_obj = RiskItem.objects.restrict(self.user, "view").filter(pk=item_id).first()
            if self.risk_item_obj is None:
                self.add_error(None, _("关联的风险条目不存在或无权查看 / the linked risk item was not found"))
        owner_id = data.get("heldback_owner")
        if owner_id:
            self.heldback_owner_obj = heldback_owner_for(self.user, enterprise, owner_id)
            if self.heldback_owner_obj is None:
                self.add_error(None, _("关联的受阻链主不存在或与该企业无供应关系 / the linked chain owner was not "
                                       "found or has no link to the enterprise"))

    def submit_kwargs(self) -> dict:
        """Keyword arguments of services.submit from the cleaned form."""
        d = self.cleaned_data
        return {
            "enterprise": d["enterprise"], "title": d.get("title", ""), "text": d["text"],
            "category": d.get("category") or "", "urgency": d.get("urgency") or Urgency.NORMAL,
            "secondary_categories": d.get("secondary_categories") or [],
            "related_enterprises": d.get("related_enterprises") or [], "related_regions": d.get("related_regions") or [],
            "risk_item": self.risk_item_obj, "heldback_owner": self.heldback_owner_obj,
            "attachments": d.get("attachments") or [], "client_token": d.get("client_token") or "",
        }


def heldback_owner_for(user, enterprise, owner_id) -> Enterprise | None:
    """The chain owner an appeal is filed for from the held-back list, if the user may name it.

    Allowed: an owner the user sees, or one the enterprise supplies (a supply link to it, or a
    membership in a chain it leads) — that relation is why the held-back list shows the pair.
    """
    visible = Enterprise.objects.restrict(user, "view").filter(pk=owner_id).first()
    if visible is not None:
        return visible
    if enterprise is None:
        return None
    owner = Enterprise.objects.filter(pk=owner_id).first()
    if owner is None:
        return None
    if SupplyLink.objects.filter(supplier=enterprise, customer=owner).exists():
        return owner
    owner_chains = Membership.objects.filter(enterprise=owner, role=MemberRole.OWNER).values("chain")
    if Membership.objects.filter(enterprise=enterprise, chain__in=owner_chains).exists():
        return owner
    return None


# --- the detail page's step forms ----------------------------------------------------------------


class NoteForm(forms.Form):
    """accept, start, close: an optional note."""

    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReplyForm(forms.Form):
    """resolve: the reply the enterprise reads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reply"] = _text_field(gettext_lazy("答复意见"), rows=4)


class ReasonForm(forms.Form):
    """declare_unresolvable, reopen, escalate: a required reason."""

    def __init__(self, *args, label=None, max_length=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"] = _text_field(label or gettext_lazy("理由"), rows=3, max_length=max_length)


class TextForm(forms.Form):
    """ask, answer, meeting_note: a required text."""

    def __init__(self, *args, label=None, max_length=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"] = _text_field(label or gettext_lazy("内容"), rows=3, max_length=max_length)


class CommentForm(forms.Form):
    """comment: text, and for officials an "internal" box."""

    internal = forms.BooleanField(label=gettext_lazy("仅内部可见（企业看不到）"), required=False)

    def __init__(self, *args, official=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"] = _text_field(gettext_lazy("留言"), rows=3)
        self.order_fields(["text", "internal"])
        if not official:
            del self.fields["internal"]


RATINGS = [(str(n), "★" * n) for n in range(5, 0, -1)]


class ConfirmForm(forms.Form):
    """confirm: a rating 1–5 and a comment."""

    rating = forms.TypedChoiceField(
        label=gettext_lazy("满意度"), choices=RATINGS, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择满意度（1–5 分） / choose a rating from 1 to 5"),
                        "invalid_choice": gettext_lazy("满意度须为 1–5 分 / the rating must be 1 to 5")},
    )
    comment = forms.CharField(label=gettext_lazy("评价"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return obj.name


class UserChoiceField(forms.ModelChoiceField):
    """A person of a unit, labelled with their department (or role)."""

    department_names: dict[str, str] = {}

    def label_from_instance(self, obj) -> str:
        who = obj.get_full_name() or obj.username
        return f"{who}（{self.department_names.get(obj.department) or obj.get_role_display()}）"


class TransferForm(forms.Form):
    """transfer: another department at the same level and region, and a reason."""

    def __init__(self, *args, appeal: Appeal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"] = DepartmentChoiceField(
            label=gettext_lazy("转至部门"), queryset=Department.objects.exclude(pk=appeal.department_id),
            error_messages={"required": _("请选择部门 / choose a department"),
                            "invalid_choice": _("请选择另一个部门 / choose a different department")},
        )
        self.fields["reason"] = _text_field(gettext_lazy("转办理由"), rows=2, max_length=1000)


def unit_people(appeal: Appeal):
    """Everyone who works for a unit at the appeal's level and region (any department, or the task force)."""
    departments = list(Department.objects.all())
    parts = [routing.users_of_unit(appeal.level, appeal.handling_region, d) for d in departments]
    parts.append(routing.users_of_unit(appeal.level, appeal.handling_region, None))
    return reduce(or_, parts).order_by("role", "department", "username")


class AssignForm(forms.Form):
    """assign: a task force hands the appeal to a department at its level and/or names the person in charge."""

    reason = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, appeal: Appeal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"] = DepartmentChoiceField(
            label=gettext_lazy("承办部门"), queryset=Department.objects.all(), required=False,
            empty_label=_("（不变）"),
        )
        self.fields["assignee"] = UserChoiceField(
            label=gettext_lazy("经办人"), queryset=unit_people(appeal), required=False, empty_label=_("（不指定）"),
        )
        self.fields["assignee"].department_names = dict(Department.objects.values_list("code", "name"))
        self.order_fields(["department", "assignee", "reason"])

    def clean(self):
        data = super().clean()
        if not data.get("department") and not data.get("assignee") and not self.errors:
            raise ValidationError(_("请选择部门或经办人 / choose a department or a person"))
        return data


class CategoryForm(forms.Form):
    """confirm_category: confirm or correct the category."""

    category = forms.ChoiceField(label=gettext_lazy("诉求类别"), choices=Category.choices)


class AttachmentForm(forms.Form):
    """add_attachment: one more file."""

    file = forms.FileField(label=gettext_lazy("附件"),
                           error_messages={"required": gettext_lazy("请选择文件 / choose a file")})

    def clean_file(self):
        f = self.cleaned_data["file"]
        errors = _check_files([f])
        if errors:
            raise ValidationError(errors)
        return f
