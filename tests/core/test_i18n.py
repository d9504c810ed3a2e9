"""English interface: pages switch to English on request, stay Chinese by default; the en catalogue is complete."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import gulian

LOCALE = Path(gulian.__file__).parent / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}|%[sd]")


def english_client(user=None) -> Client:
    """A client that chose English with the language switch (Django's set_language view)."""
    c = Client()
    response = c.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and c.cookies["django_language"].value == "en"
    if user is not None:
        c.force_login(user)
    return c


def chinese_client(user=None) -> Client:
    """A client that chose nothing: no cookie, no Accept-Language header."""
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# ---- pages ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_in_english_from_accept_language():
    page = text(Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en">' in page
    for english in ("Sign in", "Username", "Password", "New enterprise?", "Enterprise registration"):
        assert english in page
    for chinese in ("登录", "用户名", "密码", "企业注册"):
        assert chinese not in page
    # the switch offers the way back to Chinese
    assert 'value="zh-hans"' in page


@pytest.mark.django_db
def test_login_page_in_chinese_by_default():
    page = text(Client().get(reverse("login")))
    assert '<html lang="zh-hans">' in page
    for chinese in ("登录", "用户名", "密码", "企业注册"):
        assert chinese in page
    for english in ("Sign in", "Username", "Password"):
        assert english not in page


def test_home_page_in_english_after_switch(two_cities):
    page = text(english_client(two_cities.province).get(reverse("home")))
    for english in ("Dashboard", "Chains", "Enterprises", "Supply links", "Common tasks", "Sign out",
                    "Viewing region: 浙江省", "Task force"):
        assert english in page
    for chinese in ("工作台", "常用工作", "退出", "当前查看区域", "专班"):
        assert chinese not in page


def test_home_page_in_chinese_by_default(two_cities):
    page = text(chinese_client(two_cities.province).get(reverse("home")))
    for chinese in ("工作台", "常用工作", "退出", "当前查看区域：浙江省", "专班"):
        assert chinese in page
    for english in ("Dashboard", "Common tasks", "Sign out"):
        assert english not in page


def test_chain_page_in_english(two_cities):
    ns = two_cities
    page = text(english_client(ns.province).get(reverse("registry:chain_detail", args=[ns.chain.pk])))
    for english in ("Chain leader", "Chain owners", "Core suppliers", "Segments and members", "Supply-link graph",
                    "Supply links by scope", "In city", "In province", "Other provinces", "Overseas",
                    "2 enterprises"):
        assert english in page
    for chinese in ("链长", "链主企业", "核心配套企业", "环节与成员企业", "供应关系图", "市内", "省内", "境外", "家"):
        assert chinese not in page
    # data stays as entered
    assert "节能与新能源汽车" in page and "整车" in page and "杭州甲公司" in page


def test_chain_page_in_chinese_by_default(two_cities):
    ns = two_cities
    page = text(chinese_client(ns.province).get(reverse("registry:chain_detail", args=[ns.chain.pk])))
    for chinese in ("链长", "链主企业", "核心配套企业", "环节与成员企业", "供应关系图", "市内", "境外", "2 家"):
        assert chinese in page
    for english in ("Chain leader", "Segments and members", "Overseas"):
        assert english not in page


@pytest.mark.django_db
def test_bilingual_error_shows_its_english_part_alone_in_english():
    form = {"uscc": "123", "enterprise_name": "x", "contact_name": "x", "phone": "1", "email": "a@b.cn",
            "username": "someone", "password1": "Long-pass-123", "password2": "Other-pass-123"}
    english = text(Client().post(reverse("register"), form, HTTP_ACCEPT_LANGUAGE="en"))
    assert "a USCC has 18 characters" in english and "统一社会信用代码应为18位" not in english
    assert "the passwords do not match" in english and "两次输入的密码不一致" not in english
    chinese = text(Client().post(reverse("register"), form))
    assert "统一社会信用代码应为18位 / a USCC has 18 characters" in chinese
    assert "两次输入的密码不一致 / the passwords do not match" in chinese


# ---- the catalogue -------------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s.strip()[1:-1])


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: {"flags": set, "msgctxt"?, "msgid", "msgid_plural"?, "msgstr" or "msgstr[n]"}."""
    entries, current, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            current, key = None, None
            continue
        if current is None:
            current = {"flags": set()}
            entries.append(current)
        if line.startswith("#,"):
            current["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += _unquote(line)
        else:
            key, value = line.split(" ", 1)
            current[key] = _unquote(value)
    return [e for e in entries if "msgid" in e]


def test_every_english_msgid_is_translated_and_none_is_fuzzy():
    entries = parse_po(LOCALE / "django.po")
    assert len(entries) > 300
    header = entries[0]
    assert header["msgid"] == "" and "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    untranslated, mismatched = [], []
    for e in entries[1:]:
        strings = [v for k, v in e.items() if k.startswith("msgstr")]
        if "msgid_plural" in e:
            assert set(k for k in e if k.startswith("msgstr")) == {"msgstr[0]", "msgstr[1]"}, e["msgid"]
        if not strings or not all(s.strip() for s in strings):
            untranslated.append(e["msgid"])
        for s in strings:
            # the same placeholders (msgfmt's rule); a "中文 / English" msgid may name one in both halves
            if set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(e["msgid"])):
                mismatched.append(e["msgid"])
    assert untranslated == []
    assert mismatched == []


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo holds exactly the .po's translations (compilemessages was run after the last edit)."""
    entries = parse_po(LOCALE / "django.po")[1:]
    with open(LOCALE / "django.mo", "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    for e in entries:
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            assert catalog.get((key, 0)) == e["msgstr[0]"], e["msgid"]
            assert catalog.get((key, 1)) == e["msgstr[1]"], e["msgid"]
        else:
            assert catalog.get(key) == e["msgstr"], e["msgid"]
