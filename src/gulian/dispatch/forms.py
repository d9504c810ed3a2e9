"""Forms of the dispatch pages: the daily report (phone-sized, one column) and the report import."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from gulian.dispatch.models import Blocker, DailyReport
from gulian.dispatch.reportdata import NOTE_MAX, blocker_codes

HUNDRED = Decimal(100)
BLOCKER_CHOICES = [(b.name.lower(), b.label) for b in Blocker]


def _number(**attrs) -> forms.NumberInput:
    # inputmode brings up the numeric keypad on phones
    return forms.NumberInput(attrs={"inputmode": "decimal", **attrs})


class DailyReportForm(forms.Form):
    """A day's report as an enterprise fills it in: percentages as numbers 0–150, blockers as boxes."""

    date = forms.DateField(
        label=_("填报日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    resumed = forms.TypedChoiceField(
        label=_("今日是否已复工"),
        choices=[("1", _("已复工")), ("0", _("未复工"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    utilisation = forms.DecimalField(
        label=_("产能利用率（%）"),
        required=False,
        min_value=0,
        max_value=150,
        decimal_places=1,
        help_text=_("与正常产能相比，0–150；未复工填 0 或不填"),
        widget=_number(step="0.1"),
    )
    staff_on_duty = forms.IntegerField(
        label=_("今日到岗人数"), min_value=0, widget=_number(inputmode="numeric")
    )
    staff_normal = forms.IntegerField(
        label=_("正常用工人数"), min_value=1, widget=_number(inputmode="numeric")
    )
    staff_returned_outside = forms.IntegerField(
        label=_("省外返岗人数"), required=False, min_value=0, widget=_number(inputmode="numeric")
    )
    inventory_days = forms.DecimalField(
        label=_("关键原材料库存可用天数"),
        required=False,
        min_value=0,
        decimal_places=1,
        widget=_number(step="0.1"),
    )
    output_value = forms.DecimalField(
        label=_("当日产值（元）"), required=False, min_value=0, decimal_places=2, widget=_number(step="0.01")
    )
    order_change = forms.DecimalField(
        label=_("订单较正常水平变化（%）"),
        required=False,
        min_value=-100,
        decimal_places=1,
        help_text=_("如减少两成填 -20，增加一成填 10"),
        widget=_number(step="0.1"),
    )
    blockers = forms.MultipleChoiceField(
        label=_("当前堵点（可多选）"),
        required=False,
        choices=BLOCKER_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    blocker_note = forms.CharField(
        label=_("堵点说明"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("需要协调解决的具体问题"),
    )

    def report_data(self) -> dict:
        """The cleaned form as the service's report fields (percentages as fractions)."""
        d = self.cleaned_data
        return {
            "resumed": d["resumed"],
            "utilisation": None if d["utilisation"] is None else d["utilisation"] / HUNDRED,
            "staff_on_duty": d["staff_on_duty"],
            "staff_normal": d["staff_normal"],
            "staff_returned_outside": d["staff_returned_outside"],
            "inventory_days": d["inventory_days"],
            "output_value": d["output_value"],
            "order_change": None if d["order_change"] is None else d["order_change"] / HUNDRED,
            "blockers": d["blockers"],
            "blocker_note": d["blocker_note"],
        }


def _percent(value: Decimal | None) -> str | None:
    # "85", "102.5": normalize() alone would write 100 as "1E+2"
    return None if value is None else f"{(value * HUNDRED).normalize():f}"


def initial_from(report: DailyReport | None) -> dict:
    """Form values from a stored report (the pre-fill), percentages as numbers 0–150."""
    if report is None:
        return {}
    return {
        "resumed": "1" if report.resumed else "0",
        "utilisation": _percent(report.utilisation),
        "staff_on_duty": report.staff_on_duty,
        "staff_normal": report.staff_normal,
        "staff_returned_outside": report.staff_returned_outside,
        "inventory_days": report.inventory_days,
        "output_value": report.output_value,
        "order_change": _percent(report.order_change),
        "blockers": blocker_codes(report.blockers),
        "blocker_note": report.blocker_note,
    }


class ReportImportForm(forms.Form):
    """A day's reports from a spreadsheet, with the switches of ``gulian dispatch import-reports``."""

    file = forms.FileField(label=_("文件（.xlsx / .csv）"))
    date = forms.DateField(
        label=_("填报日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("文件中没有“日期”列时必填；有该列时，与此日期不同的行被拒绝"),
    )
    partial = forms.BooleanField(
        label=_("仅导入通过校验的行"),
        required=False,
        help_text=_("不勾选时，只要有一行被拒绝，整个文件都不写入"),
    )
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False)
