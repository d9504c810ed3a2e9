"""Scenario forms: the scenario (from fields or a YAML/JSON spec) and the options of a run.

Fields: regions, days, loss, firm stops, recovery; or a spec pasted or uploaded. The run form picks
the chains and the stall threshold.

``ScenarioForm.cleaned_data["spec"]`` is the engine spec (a dict) checked by
``gulian.risk.runs.parse_spec``/``check_firms``; errors are shown on the field they concern,
in the "中文 / English" style.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Region, RegionLevel
from gulian.core.uscc import compact, is_valid
from gulian.engine.scenario import RECOVERY_KINDS
from gulian.registry.models import Chain
from gulian.risk import runs

MAX_SPEC_BYTES = 1_000_000
RECOVERY_LABELS = {
    "none": _("不恢复（封控结束即恢复）"),
    "proportional": _("按比例逐日恢复"),
    "uniform": _("匀速恢复"),
    "immediate": _("立即恢复"),
    "exponential": _("指数恢复"),
}


def region_choices(user) -> list[tuple[str, str]]:
    """Provinces and prefectures nationwide, plus the counties of the user's province."""
    qs = Region.objects.filter(level__in=(RegionLevel.PROVINCE, RegionLevel.PREFECTURE))
    province = (user.scope_prefix or "")[:2]
    if province:
        qs = qs | Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=province)
    indent = {RegionLevel.PROVINCE: "", RegionLevel.PREFECTURE: "　", RegionLevel.COUNTY: "　　"}
    return [(r.code, f"{indent.get(r.level, '')}{r.code} {r.name}") for r in qs.order_by("code")]


class ScenarioForm(forms.Form):
    """A scenario from fields, or from a YAML/JSON spec that replaces them."""

    name = forms.CharField(label=_("情景名称"), max_length=100)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    regions = forms.MultipleChoiceField(
        label=_("封控区域"), required=False, widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("可多选（按住 Ctrl）；选中省或市即包含其下全部区县"),
    )  # fmt: skip
    start = forms.IntegerField(label=_("开始日（第几天，从 0 起）"), min_value=0, initial=0)
    lockdown_days = forms.IntegerField(label=_("封控天数"), min_value=1, max_value=365, initial=14)
    capacity_loss = forms.FloatField(label=_("产能损失（%）"), min_value=0, max_value=100, initial=100)
    firm_stops = forms.CharField(
        label=_("停产企业"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个统一社会信用代码，可在其后写停产天数，如：91330106MA2XXXXXX1 14"),
    )  # fmt: skip
    recovery_kind = forms.ChoiceField(
        label=_("恢复方式"), choices=[(k, RECOVERY_LABELS[k]) for k in RECOVERY_KINDS], initial="proportional"
    )
    recovery_days = forms.IntegerField(label=_("恢复天数"), min_value=0, max_value=365, initial=14)
    recovery_delay = forms.IntegerField(label=_("恢复前延迟（天）"), min_value=0, max_value=365, initial=0)
    steps = forms.IntegerField(label=_("仿真天数"), min_value=1, max_value=365, initial=60)
    spec_text = forms.CharField(
        label=_("或粘贴情景定义（YAML/JSON）"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("填写后以此为准，上面的区域、天数等字段不再使用"),
    )  # fmt: skip
    spec_file = forms.FileField(label=_("或上传情景文件（.yaml / .json）"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].choices = region_choices(user)

    def clean_firm_stops(self) -> list[dict]:
        """One stop per line: USCC [days]."""
        stops = []
        for k, line in enumerate((self.cleaned_data.get("firm_stops") or "").splitlines(), start=1):
            parts = line.replace(",", " ").replace("，", " ").split()
            if not parts:
                continue
            code = compact(parts[0])
            if not is_valid(code):
                raise ValidationError(
                    _("第 %(k)s 行：统一社会信用代码无效 / invalid USCC: %(code)s") % {"k": k, "code": repr(parts[0])}
                )
            stop: dict = {"firm": code}
            if len(parts) > 1:
                if not parts[1].isdigit() or int(parts[1]) < 1:
                    raise ValidationError(_("第 %(k)s 行：停产天数应为正整数 / days must be a positive integer") % {"k": k})
                stop["days"] = int(parts[1])
            stops.append(stop)
        return stops

    def _uploaded_or_pasted(self) -> str:
        upload = self.cleaned_data.get("spec_file")
        if upload:
            if upload.size > MAX_SPEC_BYTES:
                raise ValidationError({"spec_file": _("文件过大 / the file is too large")})
            try:
                return upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError({"spec_file": _("文件应为 UTF-8 文本 / the file must be UTF-8 text")})
        return (self.cleaned_data.get("spec_text") or "").strip()

    def _from_fields(self) -> dict:
        data = self.cleaned_data
        if not data.get("regions") and not data.get("firm_stops"):
            raise ValidationError(
                {"regions": _("请选择封控区域或填写停产企业 / choose regions to lock down or firms to stop")}
            )
        start = data.get("start") or 0
        stops = [{**s, "start": start} for s in data.get("firm_stops") or []]
        return {
            "name": data.get("name", ""),
            "lockdowns": [
                {"region_prefix": prefix, "days": data["lockdown_days"], "start": start,
                 "capacity_loss": round(data["capacity_loss"] / 100.0, 6)}
                for prefix in sorted(set(Region.objects.filter(code__in=data.get("regions") or []).values_list("prefix", flat=True)))
            ],  # fmt: skip
            "firm_stops": stops,
            "recovery": {"kind": data["recovery_kind"], "days": data["recovery_days"], "delay": data["recovery_delay"]},
            "steps": data["steps"],
        }

    def clean(self):
        """Build the spec and check it with the engine's parser and the registry."""
        data = super().clean()
        if self.errors:
            return data
        text = self._uploaded_or_pasted()
        field = "spec_file" if self.cleaned_data.get("spec_file") else "spec_text"
        if not text:
            field = "__all__"
            for name in ("start", "lockdown_days", "capacity_loss", "recovery_days", "recovery_delay", "steps"):
                if data.get(name) is None:
                    self.add_error(name, _("必填 / required"))
            if self.errors:
                return data
            spec = self._from_fields()
        else:
            spec = text
        try:
            scenario = runs.parse_spec(spec)
            runs.check_firms(scenario)
        except ValidationError as exc:
            self.add_error(None if field == "__all__" else field, exc)
            return data
        data["spec"] = scenario.to_dict()
        return data


class RunForm(forms.Form):
    """Options of one run: which chains (default all in the scenario's region) and the stall threshold."""

    chains = forms.ModelMultipleChoiceField(
        label=_("产业链"), queryset=Chain.objects.none(), required=False, to_field_name="code",
        help_text=_("不选则为情景所属区域的全部产业链"),
    )  # fmt: skip
    threshold = forms.FloatField(
        label=_("停产阈值（%）"), min_value=1, max_value=100, initial=90,
        help_text=_("链主产出低于正常水平的该比例即视为停产"),
    )  # fmt: skip

    def __init__(self, *args, user, scenario, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chains"].queryset = (
            Chain.objects.restrict(user, "view").filter(region__code__startswith=scenario.region.prefix[:2]).order_by("code")
        )
