"""Attachment checks: allowed types by extension *and* content signature, and a size limit.

A file whose bytes do not match its extension (an .exe renamed .pdf) is rejected, as is anything
not on the list. docs/appeals.md lists the types.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (.doc, .xls)


def _zip_office(head: bytes, data: bytes) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "[Content_Types].xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _text(head: bytes, data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


# extension -> check of the content
ALLOWED = {
    ".pdf": lambda head, data: head.startswith(b"%PDF-"),
    ".png": lambda head, data: head.startswith(b"\x89PNG\r\n\x1a\n"),
    ".jpg": lambda head, data: head.startswith(b"\xff\xd8\xff"),
    ".jpeg": lambda head, data: head.startswith(b"\xff\xd8\xff"),
    ".docx": _zip_office,
    ".xlsx": _zip_office,
    ".doc": lambda head, data: head.startswith(OLE),
    ".xls": lambda head, data: head.startswith(OLE),
    ".txt": _text,
    ".csv": _text,
}


def check_attachment(f) -> None:
    """Raise ValidationError (field "attachments") unless ``f`` is an allowed type within the size limit."""
    name = getattr(f, "name", "") or ""
    ext = PurePath(name).suffix.lower()
    limit = int(settings.APPEALS_MAX_ATTACHMENT_MB * 1024 * 1024)
    if ext not in ALLOWED:
        raise ValidationError({"attachments": _(
            "「%(name)s」的文件类型不允许，仅支持 %(types)s / file type of %(name)s not allowed; allowed: %(types)s"
        ) % {"name": name, "types": " ".join(sorted(ALLOWED))}})
    if f.size > limit:
        raise ValidationError({"attachments": _(
            "「%(name)s」超过 %(mb)s MB / %(name)s is larger than %(mb)s MB"
        ) % {"name": name, "mb": f"{settings.APPEALS_MAX_ATTACHMENT_MB:g}"}})
    if f.size == 0:
        raise ValidationError({"attachments": _("「%(name)s」是空文件 / %(name)s is empty") % {"name": name}})
    f.seek(0)
    data = f.read()
    f.seek(0)
    if not ALLOWED[ext](data[:16], data):
        raise ValidationError({"attachments": _(
            "「%(name)s」的内容与扩展名不符 / the content of %(name)s does not match its extension"
        ) % {"name": name}})
