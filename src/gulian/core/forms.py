"""Forms for accounts: enterprise self-registration, rejection reason, API token name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gulian.core.uscc import USCCError
from gulian.core.uscc import validate as validate_uscc


class RegistrationForm(forms.Form):
    """An enterprise registers itself with its USCC and a contact person."""

    uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=40, help_text=_("18位，可含空格或全角字符，系统自动规整")
    )
    enterprise_name = forms.CharField(label=_("企业名称"), max_length=200)
    region = forms.CharField(
        label=_("所在区域代码"),
        max_length=6,
        required=False,
        help_text=_("仅当信用代码中的区划代码已撤销时需要填写（6位行政区划代码）"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=64)
    phone = forms.CharField(label=_("联系电话"), max_length=32)
    email = forms.EmailField(label=_("联系邮箱"))
    username = forms.CharField(label=_("用户名"), max_length=150)
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)

    def clean_uscc(self):
        # checked here too so the named failure shows even when other fields are still missing
        try:
            return validate_uscc(self.cleaned_data["uscc"])
        except USCCError as e:
            raise forms.ValidationError(e.localized(), code=f"uscc_{e.code}")

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致 / the passwords do not match"))
        return data


class RejectForm(forms.Form):
    """Why a registration is turned down (kept in the audit log)."""

    reason = forms.CharField(label=_("驳回理由"), max_length=200)


class TokenForm(forms.Form):
    """Name of a new API token."""

    name = forms.CharField(label=_("令牌名称"), max_length=64, help_text=_("如：数据对接脚本"))
